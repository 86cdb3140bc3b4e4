/**
 * The incident console (packages/console): a static site on S3 and CloudFront, built with the
 * API's URL baked into its page (VITE_API_URL), which the page's Content Security Policy also
 * names as the only origin it may call.
 */
export function incidentConsole(apiUrl: $util.Input<string>) {
  return new sst.aws.StaticSite("Console", {
    path: "packages/console",
    build: { command: "npm run build", output: "dist" },
    environment: { VITE_API_URL: apiUrl },
    // SST writes Vite types for `environment` into the site (src/sst-env.d.ts by default). The
    // console reads its API URL from a meta tag, not import.meta.env: keep them out of the tree.
    vite: { types: "node_modules/.sst/sst-env.d.ts" },
  });
}

/**
 * What the API lets a browser do. Any origin: the API takes bearer tokens, never cookies, so a
 * page on another origin can call it only with a token its user pasted in, and the console's own
 * origin (a CloudFront URL known only once the site exists, which is built from the API's URL)
 * cannot be named here without a cycle.
 */
export const API_CORS: sst.aws.ApiGatewayV2Args["cors"] = {
  allowOrigins: ["*"],
  allowMethods: ["GET", "POST", "DELETE"],
  allowHeaders: ["authorization", "content-type"],
  allowCredentials: false,
  maxAge: "1 day",
};
