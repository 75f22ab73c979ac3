// Script of the "Spacetime Probe: Environment" panel (src/extension/panels/environmentPanel.ts).
// Plain browser JavaScript loaded through asWebviewUri under a nonce CSP. Everything is written with
// textContent, never innerHTML, so no value from the host can become markup.
(function () {
  'use strict';
  const vscodeApi = acquireVsCodeApi();

  function row(table, label, value) {
    const tr = table.insertRow();
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = label;
    tr.appendChild(th);
    tr.insertCell().textContent = value;
  }

  function render(environment) {
    const content = document.getElementById('content');
    content.replaceChildren();

    const summary = document.createElement('p');
    summary.className = 'summary';
    summary.textContent = 'onnxruntime-node ' + environment.onnxruntimeVersion +
      ' on Node ' + environment.host.nodeVersion + ' (' + environment.host.appHost + ')';
    content.appendChild(summary);

    const table = document.createElement('table');
    row(table, 'Extension version', environment.extensionVersion);
    row(table, 'onnxruntime-node', environment.onnxruntimeVersion);
    row(table, 'Execution providers', environment.executionProviders
      .map(function (provider) { return provider.name + (provider.bundled ? ' (bundled)' : ' (not bundled)'); })
      .join(', '));
    row(table, 'Node', environment.host.nodeVersion + ' (module ABI ' + environment.host.nodeModuleAbi + ')');
    row(table, 'Platform', environment.host.platform + '-' + environment.host.arch);
    row(table, 'Host', environment.host.appName + ' ' + environment.host.vscodeVersion +
      ', appHost ' + environment.host.appHost);
    content.appendChild(table);

    document.getElementById('status').textContent = 'Environment received from the extension host.';
    document.body.dataset.state = 'loaded';
  }

  window.addEventListener('message', function (event) {
    const message = event.data;
    if (message && message.type === 'environment' && message.environment) {
      render(message.environment);
    }
  });
  // Ask only once the listener is in place, so the reply cannot arrive before we listen.
  vscodeApi.postMessage({ type: 'ready' });
})();
