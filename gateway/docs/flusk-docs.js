// The gateway's /docs page: Swagger UI over every service's OpenAPI document. The list of
// services (the selector in the top bar) comes from /docs/swagger-config.json, which the
// gateway renders from services.toml. Requests made with "Try it out" go to this origin.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    configUrl: "/docs/swagger-config.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // Never send the documents to the public validator: the page works offline.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
  });
});
