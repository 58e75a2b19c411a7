// /docs: Swagger UI (vendored from swagger-ui-dist, served from this origin) over /openapi.json,
// with "Try it out" against this same Worker. The server-rendered list stays as the no-JS view.
const root = document.querySelector("#api-reference");
if (root && typeof window.SwaggerUIBundle === "function") {
  document.querySelector("[data-static-reference]")?.remove();
  window.SwaggerUIBundle({
    url: "/openapi.json",
    domNode: root,
    deepLinking: true,
    tryItOutEnabled: true,
    displayOperationId: true,
    defaultModelsExpandDepth: 0,
    persistAuthorization: false,
  });
}
