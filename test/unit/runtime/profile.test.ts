/**
 * onnxruntime's per-node profile through the model loader (used by bench/device-check to show which provider ran
 * each node and what was copied between devices): a profiled session writes a Chrome-trace JSON into the working
 * folder whose node events name their execution provider.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadTransformerModel } from '../../../src/core/model/onnx/transformerModel';
import { onnxModelDir } from '../../helpers/modelFixtures';

test('enableProfiling writes a profile whose node events name the provider that ran them', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ort-profile-'));
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const model = await loadTransformerModel(onnxModelDir('gpt2-tiny'), { device: 'cpu', enableProfiling: true });
    try {
      await model.runBatch([{ ids: [1, 2, 3], usable: true }, { ids: [4], usable: true }]);
      model.endProfiling();
    } finally {
      await model.dispose();
    }
    const files = fs.readdirSync(dir).filter((name) => name.startsWith('onnxruntime_profile') && name.endsWith('.json'));
    assert.equal(files.length, 1, `profile files: ${fs.readdirSync(dir).join(', ')}`);
    const events = JSON.parse(fs.readFileSync(path.join(dir, files[0]), 'utf8')) as { cat?: string; name?: string; args?: { provider?: string; op_name?: string } }[];
    const nodes = events.filter((event) => event.cat === 'Node' && event.name?.endsWith('_kernel_time'));
    assert.ok(nodes.length > 10, `${nodes.length} node events`);
    assert.ok(nodes.every((event) => event.args?.provider === 'CPUExecutionProvider'));
    // The tap graph's own GatherND nodes ran (the last-token gather happens inside the graph).
    assert.ok(nodes.some((event) => event.args?.op_name === 'GatherND'));
    assert.ok(events.some((event) => event.cat === 'Session' && event.name === 'model_run'));
  } finally {
    process.chdir(cwd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
