// The Environment panel as a person sees it: run from the command palette, wait for the data-driven text inside
// the webview frame, save PNGs under test-artifacts/, assert on the visible text.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { captureWebview, skipWithoutScreenshots } from './captureWebview';

const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

suite('Environment panel (screenshot)', () => {
  test('shows onnxruntime-node, the execution providers and the host Node version', async function () {
    skipWithoutScreenshots(this);
    const ortVersion = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')) as { version: string }).version;
    // This text is written by the panel's script only after the host answered its `ready` message.
    const captured = await captureWebview({
      command: 'Spacetime Probe: Show Environment',
      waitForText: `onnxruntime-node ${ortVersion}`,
      name: 'environment-panel',
    });
    assert.match(captured.text, /Execution providers\s+cpu \(bundled\)/);
    assert.ok(captured.text.includes(`Node ${process.version}`), `host Node ${process.version} not shown in:\n${captured.text}`);
    assert.ok(!captured.text.includes('Waiting for the extension host'), 'placeholder still visible');
    assert.equal(captured.screenshots.length, 2);
    for (const file of captured.screenshots) {
      const bytes = fs.readFileSync(file);
      assert.ok(bytes.length > 1000, `${file} is only ${bytes.length} bytes`);
      assert.deepEqual(bytes.subarray(0, 8), PNG_SIGNATURE, `${file} is not a PNG`);
    }
  });
});
