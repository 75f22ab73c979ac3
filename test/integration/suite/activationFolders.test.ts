// Past one machine (issue 18): "Export Extraction Script…" writes the Python bundle for a dataset, and "Open
// Activation Folder…" probes a float16 folder written elsewhere and adds it to the Runs view with its provenance.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { extensionApi } from './probeTestSupport';
import { encodeNpyBits16 } from '../../../src/core/activations/npy';
import { ACTIVATIONS_FORMAT, layerFileName, promptsIdentity, writeActivationManifest } from '../../../src/core/activations/manifest';
import { encodeFloat16 } from '../../../src/core/probes/halfMatrix';
import type { RunRecord } from '../../../src/extension/runs/runStore';

suite('Activation folders from elsewhere', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'activation-folders-'));
  const names = Array.from({ length: 40 }, (_, i) => `place ${i}`);
  const dataset = path.join(dir, 'places.csv');
  fs.writeFileSync(dataset, `name,latitude,longitude\n${names.map((name, i) => `${name},${(i * 4) - 80},${(i * 8) - 160}`).join('\n')}\n`);
  suiteTeardown(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('Export Extraction Script writes the script, requirements and prompts for the dataset', async () => {
    const out = path.join(dir, 'script');
    const files = await vscode.commands.executeCommand<string[] | undefined>('spacetimeProbe.exportExtractionScript', {
      dataset, model: 'meta-llama/Llama-2-70b-hf', engine: 'nnsight', remote: true, dtype: 'bfloat16', prompt: 'Where is {entity}?', outDir: out, open: false,
    });
    assert.deepEqual(files?.map((file) => path.basename(file)), ['extract_activations.py', 'requirements.txt', 'prompts.jsonl']);
    const script = fs.readFileSync(path.join(out, 'extract_activations.py'), 'utf8');
    assert.ok(script.includes('MODEL = "meta-llama/Llama-2-70b-hf"') && script.includes('REMOTE = True') && script.includes('DTYPE = "bfloat16"'));
    assert.equal(fs.readFileSync(path.join(out, 'prompts.jsonl'), 'utf8').trim().split('\n').length, names.length);
  });

  test('Open Activation Folder probes a float16 folder and records its provenance in the Runs view', async () => {
    const folder = path.join(dir, 'activations');
    fs.mkdirSync(folder);
    const d = 6;
    for (let layer = 0; layer < 2; layer++) {
      const bits = new Uint16Array(names.length * d);
      names.forEach((_, i) => { for (let j = 0; j < d; j++) bits[i * d + j] = encodeFloat16(((i * 4) - 80) * (j + 1) * 0.01 * (layer + 1) + Math.sin(i * 7 + j)); });
      fs.writeFileSync(path.join(folder, layerFileName(layer)), encodeNpyBits16(bits, [names.length, d], '<f2'));
    }
    const rows = names.map((_, i) => i + 2);
    writeActivationManifest(folder, {
      format: ACTIVATIONS_FORMAT, model: 'meta-llama/Llama-2-70b-hf', prompt: '{entity}', token: 'entity-last', dataset, numEntities: names.length, hiddenSize: d, rows,
      layers: [0, 1].map((index) => ({ index, file: layerFileName(index) })), dtype: 'float16', device: 'ndif',
      promptsSha256: promptsIdentity(rows.map((row, i) => ({ row, text: names[i] }))),
      producer: { tool: 'spacetime-probe script', engine: 'nnsight', remote: true, versions: { nnsight: '0.5.0' } },
    });
    const record = await vscode.commands.executeCommand<RunRecord | undefined>('spacetimeProbe.openActivationFolder', { folder, dataset, showResults: false });
    assert.ok(record, 'the command returned no run (see the Spacetime Probe output channel)');
    assert.equal(record.activationsFolder, folder);
    assert.match(record.provenance ?? '', /nnsight, NDIF/);
    assert.match(record.provenance ?? '', /float16 on ndif/);
    assert.equal(record.model, 'meta-llama/Llama-2-70b-hf');
    const api = await extensionApi();
    assert.equal(api.services.store.get(record.id)?.provenance, record.provenance);
    const results = JSON.parse(fs.readFileSync(path.join(api.services.store.root, record.id, 'results.json'), 'utf8'));
    assert.equal(results.layers.length, 2);
  });
});
