/**
 * The paths of the gateway's public app, in the order the docs list them: nginx passes these and
 * nothing else to the gateway, and its 404 names them (scripts/stack/render.ts). routes.test.ts
 * keeps the list equal to the app's own routes.
 */
export const PUBLIC_PATHS = ["/predict", "/feedback", "/health", "/openapi.json", "/docs"] as const;
