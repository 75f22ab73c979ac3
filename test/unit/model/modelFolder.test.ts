/** Resolving model folders and .onnx files, and normalising config.json across architectures. */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseTransformerConfig, resolveModelFiles } from '../../../src/core/model/modelFolder';
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

  test('missing tokenizer, missing model, merged-only folders and bad JSON are explained', () => {
    assert.throws(() => resolveModelFiles(folder({ 'model.onnx': 'x' })), /No tokenizer\.json/);
    assert.throws(() => resolveModelFiles(path.join(os.tmpdir(), 'does-not-exist-spacetime')), /Model not found/);
    assert.throws(() => resolveModelFiles(folder({ 'tokenizer.json': '{}', 'onnx/decoder_model_merged.onnx': 'x' })),
      (error: unknown) => error instanceof ModelLoadError && /merged decoder/.test(error.message));
    const bad = folder({ 'tokenizer.json': '{}', 'model.onnx': 'x', 'config.json': '{oops' });
    assert.throws(() => resolveModelFiles(bad), (error: unknown) => error instanceof ModelLoadError && /config\.json is not valid JSON/.test(error.message));
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
