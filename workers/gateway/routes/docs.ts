/** GET /openapi.json and GET /docs: the API described from the validation schemas, and a page for it. */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import swaggerUiBundle from "swagger-ui-dist/swagger-ui-bundle.js";
import swaggerUiCss from "swagger-ui-dist/swagger-ui.css";
import type { AppContext } from "../app-context.ts";
import { TAKES_GZIP } from "../public-paths.ts";

export const OPENAPI_INFO = {
  title: "Fortress Edge emotion API",
  version: "1.0.0",
  description:
    "Classifies the emotion of a short text (13 labels). POST /predict with HTTP Basic credentials.",
};

/** The page only changes with a deployment, which changes its ETag. */
const CACHE_CONTROL = "public, max-age=3600";

interface DocsPage {
  html: Uint8Array;
  gzip: Uint8Array;
  etag: string;
  contentSecurityPolicy: string;
}

/** A CSP source for an inline element: the SHA-256 of its text. */
const hashSource = (text: string) =>
  `'sha256-${btoa(String.fromCharCode(...sha256(new TextEncoder().encode(text))))}'`;

/**
 * What the page may do: run its two inline scripts and its inline style (by their hashes, so an
 * injected script cannot run), fetch /openapi.json and send the "try it out" requests to this
 * origin, show Swagger UI's inline SVG images; nothing else, and never inside a frame.
 */
function contentSecurityPolicy(scripts: string[], styles: string[]): string {
  return [
    "default-src 'none'",
    `script-src ${scripts.map(hashSource).join(" ")}`,
    `style-src ${styles.map(hashSource).join(" ")}`,
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

let page: DocsPage | undefined;

/**
 * Swagger UI inlined into one page: no CDN, and nothing but /docs needs to pass the public front.
 * Built and gzipped on first request, not at start-up (~1.9 MB that most isolates never serve),
 * and never again: /docs is public and not rate limited, so a call must not cost a compression.
 * Concurrent first calls each build it (a stream is bound to its request in workerd, so one call
 * cannot wait on another's); the result is the same.
 */
async function docsPage(): Promise<DocsPage> {
  if (page) return page;
  const start = 'SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui" });';
  const html = new TextEncoder().encode(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${OPENAPI_INFO.title}</title><link rel="icon" href="data:,"><style>${swaggerUiCss}</style></head>
<body><div id="swagger-ui"></div>
<script>${swaggerUiBundle}</script>
<script>${start}</script>
</body>
</html>`);
  const gzip = new Uint8Array(
    await new Response(
      new Blob([html]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer(),
  );
  page = {
    html,
    gzip,
    etag: `"${bytesToHex(sha256(html)).slice(0, 32)}"`,
    contentSecurityPolicy: contentSecurityPolicy([swaggerUiBundle, start], [swaggerUiCss]),
  };
  return page;
}

export async function docs(c: AppContext): Promise<Response> {
  const { html, gzip, etag, contentSecurityPolicy } = await docsPage();
  const headers: Record<string, string> = {
    ETag: etag,
    "Content-Security-Policy": contentSecurityPolicy,
    "Cache-Control": CACHE_CONTROL,
    Vary: "Accept-Encoding",
  };
  if (c.req.header("If-None-Match") === etag) return new Response(null, { status: 304, headers });
  headers["Content-Type"] = "text/html; charset=UTF-8";
  if (!TAKES_GZIP.test(c.req.header("Accept-Encoding") ?? ""))
    return new Response(html, { headers });
  // "manual": the body is gzip already; workerd would otherwise compress it again.
  return new Response(gzip, {
    headers: { ...headers, "Content-Encoding": "gzip" },
    encodeBody: "manual",
  });
}
