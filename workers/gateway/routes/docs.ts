/** GET /openapi.json and GET /docs: the API described from the validation schemas, and a page for it. */
import swaggerUiBundle from "swagger-ui-dist/swagger-ui-bundle.js";
import swaggerUiCss from "swagger-ui-dist/swagger-ui.css";

export const OPENAPI_INFO = {
  title: "Fortress Edge emotion API",
  version: "1.0.0",
  description: "Classifies the emotion of a short text (13 labels). POST /predict with HTTP Basic credentials.",
};

let page: string | undefined;

/**
 * Swagger UI inlined into one page: no CDN, and nothing but /docs needs to pass the public front.
 * Built on first request, not at start-up: ~1.9 MB that most isolates never serve.
 */
export const docsPage = () => (page ??= `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${OPENAPI_INFO.title}</title><style>${swaggerUiCss}</style></head>
<body><div id="swagger-ui"></div>
<script>${swaggerUiBundle}</script>
<script>SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui" });</script>
</body>
</html>`);
