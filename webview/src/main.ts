// Webview front end (placeholder until the results panel lands).
document.body.dataset.ready = 'true';
