/**
 * The paths of the gateway's public app, in the order the docs list them, and how each is served:
 * nginx passes these and nothing else to the gateway, its 404 names them, and each gets the
 * front's treatment of its kind (scripts/stack/render.ts). routes.test.ts keeps the list equal to
 * the app's own routes.
 * - "limited": signed in and rate-limited per client by the gateway (nginx's per-address limit
 *   sits above the gateway's, so that the gateway's 429 stays the contract);
 * - "once": limited, and with a side effect (feedback is counted), so nginx never sends it twice:
 *   on a connection of its own, never resent once sent;
 * - "open": no sign-in (nginx limits it per address);
 * - "static": changes only with a deployment (nginx caches it, and limits it per address).
 */
export const PUBLIC_ROUTES = {
  "/predict": "limited",
  "/feedback": "once",
  "/health": "open",
  "/openapi.json": "static",
  "/docs": "static",
} as const;

export type PublicPath = keyof typeof PUBLIC_ROUTES;
export const PUBLIC_PATHS = Object.keys(PUBLIC_ROUTES) as PublicPath[];

/**
 * Whether a client takes gzip, by its Accept-Encoding: the one way a static page varies (the
 * gateway sends /docs gzipped to such a client; nginx keys its cache on the same test).
 */
export const TAKES_GZIP = /\bgzip\b/i;
