/** Resolving model folders and .onnx files, and normalising config.json across architectures. */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listModelVariants, parseTransformerConfig, resolveModelFiles } from '../../../src/core/model/modelFolder';
import { ModelLoadError } from '../../../src/core/model/errors';
import { modelScheme } from '../../../src/core/model/loadModel';

function folder(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'model-folder-'));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

describe('resolveModelFiles', () => {
  test('Hub layout: onnx/model.onnx preferred, variants by name, sidecars from the folder', () => {
    const dir = folder({
      'config.json': '{"model_type":"llama","num_hidden_layers":2,"hidden_size":8}', 'tokenizer.json': '{}',
      'tokenizer_config.json': '{}', 'onnx/model.onnx': 'x', 'onnx/model_fp16.onnx': 'x', 'onnx/model_quantized.onnx': 'x',
    });
    const auto = resolveModelFiles(dir);
    assert.equal(auto.modelPath, path.join(dir, 'onnx', 'model.onnx'));
    assert.equal(auto.variant, 'fp32');
    assert.equal(auto.tokenizerConfigPath, path.join(dir, 'tokenizer_config.json'));
    assert.equal(auto.config.numHiddenLayers, 2);
    assert.equal(resolveModelFiles(dir, 'fp16').modelPath, path.join(dir, 'onnx', 'model_fp16.onnx'));
    assert.equal(resolveModelFiles(dir, 'q8').modelPath, path.join(dir, 'onnx', 'model_quantized.onnx'));
    assert.throws(() => resolveModelFiles(dir, 'q4'), (error: unknown) => error instanceof ModelLoadError && /model_q4\.onnx/.test(error.message));
  });

  test('auto falls back to fp16 when there is no fp32 export', () => {
    const dir = folder({ 'tokenizer.json': '{}', 'model_fp16.onnx': 'x' });
    assert.equal(resolveModelFiles(dir).variant, 'fp16');
  });

  test('a bare .onnx finds tokenizer.json one folder up (onnx/ subfolder) and works without config.json', () => {
    const dir = folder({ 'tokenizer.json': '{}', 'onnx/decoder.onnx': 'x' });
    const files = resolveModelFiles(path.join(dir, 'onnx', 'decoder.onnx'));
    assert.equal(files.tokenizerPath, path.join(dir, 'tokenizer.json'));
    assert.equal(files.configPath, undefined);
    assert.deepEqual(files.config, {});
  });

  test('missing tokenizer, missing model and bad JSON are explained; merged-only folders resolve to the merged decoder', () => {
    assert.throws(() => resolveModelFiles(folder({ 'model.onnx': 'x' })), /No tokenizer\.json/);
    assert.throws(() => resolveModelFiles(path.join(os.tmpdir(), 'does-not-exist-spacetime')), /Model not found/);
    const merged = folder({ 'tokenizer.json': '{}', 'onnx/decoder_model_merged.onnx': 'x', 'onnx/decoder_model_merged_fp16.onnx': 'x' });
    assert.equal(resolveModelFiles(merged).modelPath, path.join(merged, 'onnx', 'decoder_model_merged.onnx'));
    assert.equal(resolveModelFiles(merged, 'fp16').modelPath, path.join(merged, 'onnx', 'decoder_model_merged_fp16.onnx'));
    assert.throws(() => resolveModelFiles(merged, 'q4'), (error: unknown) => error instanceof ModelLoadError && /No q4 ONNX model/.test(error.message));
    const bad = folder({ 'tokenizer.json': '{}', 'model.onnx': 'x', 'config.json': '{oops' });
    assert.throws(() => resolveModelFiles(bad), (error: unknown) => error instanceof ModelLoadError && /config\.json is not valid JSON/.test(error.message));
  });
});

describe('listModelVariants (defect 9: Hub/transformers.js file names)', () => {
  test('every onnx/model{,_fp16,_q4,_q4f16,_bnb4,_int8,_uint8,_quantized}.onnx is a variant --variant names, with its external data', () => {
    const names = ['', '_fp16', '_q4', '_q4f16', '_bnb4', '_int8', '_uint8', '_quantized'];
    const files: Record<string, string> = { 'config.json': '{}', 'tokenizer.json': '{}' };
    for (const suffix of names) files[`onnx/model${suffix}.onnx`] = 'x';
    Object.assign(files, {
      'onnx/model.onnx_data': 'x', 'onnx/model.onnx_data_1': 'x', 'onnx/model_fp16.onnx.data': 'x', 'onnx/model_q4.onnx_data': 'x',
    });
    const dir = folder(files);
    const variants = listModelVariants(dir);
    assert.deepEqual(variants.map((entry) => entry.variant), ['fp32', 'fp16', 'q8', 'bnb4', 'int8', 'q4', 'q4f16', 'uint8']);
    const byVariant = new Map(variants.map((entry) => [entry.variant, entry]));
    assert.deepEqual(byVariant.get('fp32')!.externalData, ['onnx/model.onnx_data', 'onnx/model.onnx_data_1']);
    assert.deepEqual(byVariant.get('fp16')!.externalData, ['onnx/model_fp16.onnx.data']);
    assert.deepEqual(byVariant.get('q4')!.externalData, ['onnx/model_q4.onnx_data']);
    assert.deepEqual(byVariant.get('q4f16')!.externalData, []);
    for (const entry of variants) {
      assert.equal(resolveModelFiles(dir, entry.variant).modelPath, path.join(dir, entry.file), entry.variant);
    }
    // model_quantized.onnx is also reachable by its own suffix.
    assert.equal(resolveModelFiles(dir, 'quantized').modelPath, path.join(dir, 'onnx', 'model_quantized.onnx'));
    // A Hub listing (no disk access) gives the same, including merged decoders and root-level files.
    assert.deepEqual(listModelVariants('/nonexistent', ['model.onnx', 'onnx/decoder_model_merged_quantized.onnx', 'onnx/model_fp16.onnx',
      'onnx/model_fp16.onnx_data', 'README.md']), [
      { variant: 'fp32', file: 'model.onnx', externalData: [] },
      { variant: 'fp16', file: 'onnx/model_fp16.onnx', externalData: ['onnx/model_fp16.onnx_data'] },
      { variant: 'q8', file: 'onnx/decoder_model_merged_quantized.onnx', externalData: [] },
    ]);
  });
});

describe('parseTransformerConfig', () => {
  test('GPT-2 names (n_layer, n_embd, n_head)', () => {
    const config = parseTransformerConfig({ model_type: 'gpt2', n_layer: 12, n_embd: 768, n_head: 12, eos_token_id: 50256 });
    assert.deepEqual(config, { modelType: 'gpt2', numHiddenLayers: 12, hiddenSize: 768, numAttentionHeads: 12, numKeyValueHeads: 12, headDim: 64, padTokenId: undefined, bosTokenId: undefined, eosTokenId: 50256 });
  });

  test('Llama/Qwen2 names with GQA and explicit head_dim; eos lists; text_config for multimodal configs', () => {
    const llama = parseTransformerConfig({ num_hidden_layers: 32, hidden_size: 4096, num_attention_heads: 32, num_key_value_heads: 8, head_dim: 128, eos_token_id: [128001, 128009] });
    assert.equal(llama.numKeyValueHeads, 8);
    assert.equal(llama.headDim, 128);
    assert.equal(llama.eosTokenId, 128001);
    const multimodal = parseTransformerConfig({ model_type: 'gemma3', text_config: { num_hidden_layers: 26, hidden_size: 1152 } });
    assert.equal(multimodal.numHiddenLayers, 26);
    assert.equal(multimodal.hiddenSize, 1152);
  });
});

describe('modelScheme', () => {
  test('schemes vs paths (Windows drive letters are paths)', () => {
    assert.equal(modelScheme('builtin:glove-100d'), 'builtin');
    assert.equal(modelScheme('hf:EleutherAI/pythia-70m@main'), 'hf');
    assert.equal(modelScheme('C:\\models\\gpt2'), undefined);
    assert.equal(modelScheme('/models/gpt2'), undefined);
    assert.equal(modelScheme('models/gpt2'), undefined);
  });
});
