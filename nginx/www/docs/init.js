// Starts Swagger UI on this server's own /openapi.yaml. A separate file,
// not an inline script, so the Content-Security-Policy needs no exception.
//
// Choices: no validator badge (it would call a third-party service); no
// ?url= or ?configUrl= from the address bar (a link must not make this page
// render and "try out" someone else's description against our origin); the
// token pasted into Authorize lives in the page only, never in localStorage.
/* global SwaggerUIBundle */
(function start() {
  'use strict';
  const root = document.getElementById('swagger-ui');
  if (typeof SwaggerUIBundle !== 'function') {
    root.textContent = 'Swagger UI did not load: run nginx/vendor.sh (after npm ci) on the server.';
    return;
  }
  window.ui = SwaggerUIBundle({
    url: '/openapi.yaml',
    dom_id: '#swagger-ui',
    deepLinking: true,
    queryConfigEnabled: false,
    validatorUrl: null,
    persistAuthorization: false,
    displayRequestDuration: true,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
    tryItOutEnabled: false,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
}());
