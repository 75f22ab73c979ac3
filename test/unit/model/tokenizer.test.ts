/** BOS handling and unusable prompts of ModelTokenizer, with small synthetic tokenizer.json files. */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { ModelTokenizer } from '../../../src/core/model/tokenizer';
import { ModelLoadError } from '../../../src/core/model/errors';
import { readReference, onnxModelDir } from '../../helpers/modelFixtures';

const WORDS = ['<unk>', '<s>', 'paris', 'new', 'york'];

function wordLevel(postProcessor: unknown = null): object {
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [
      { id: 0, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 1, content: '<s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    ],
    normalizer: null, pre_tokenizer: { type: 'WhitespaceSplit' }, post_processor: postProcessor, decoder: null,
    model: { type: 'WordLevel', vocab: Object.fromEntries(WORDS.map((word, id) => [word, id])), unk_token: '<unk>' },
  };
}

const BOS_TEMPLATE = {
  type: 'TemplateProcessing',
  single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
  pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
  special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
};

describe('BOS policy', () => {
  test('a post-processor that adds BOS is followed, never doubled by tokenizer_config', () => {
    const tokenizer = ModelTokenizer.fromJson(wordLevel(BOS_TEMPLATE), { add_bos_token: true, bos_token: '<s>' });
    assert.equal(tokenizer.bosPolicy, 'post-processor');
    assert.deepEqual(tokenizer.encode('new york').ids, [1, 3, 4]);
  });

  test('without a post-processor, tokenizer_config add_bos_token prepends bos_token (Llama-3 style files)', () => {
    const tokenizer = ModelTokenizer.fromJson(wordLevel(), { add_bos_token: true, bos_token: { content: '<s>' } });
    assert.equal(tokenizer.bosPolicy, 'prepended (tokenizer_config add_bos_token)');
    assert.deepEqual(tokenizer.encode('paris').ids, [1, 2]);
  });

  test('without either, nothing is added', () => {
    const tokenizer = ModelTokenizer.fromJson(wordLevel(), { bos_token: '<s>' });
    assert.equal(tokenizer.bosPolicy, 'none');
    assert.deepEqual(tokenizer.encode('paris').ids, [2]);
  });

  test('add_bos_token with a bos_token missing from the vocabulary is an error naming it', () => {
    assert.throws(() => ModelTokenizer.fromJson(wordLevel(), { add_bos_token: true, bos_token: '<|begin_of_text|>' }),
      (error: unknown) => error instanceof ModelLoadError && /<\|begin_of_text\|>/.test(error.message));
  });

  test('the fixture Llama tokenizer adds <s> through its post-processor; GPT-2 adds nothing; ids as Python tokenizers gives', () => {
    const llama = ModelTokenizer.fromFiles(path.join(onnxModelDir('llama-tiny'), 'tokenizer.json'));
    assert.equal(llama.bosPolicy, 'post-processor');
    const gpt2 = ModelTokenizer.fromFiles(path.join(onnxModelDir('gpt2-tiny'), 'tokenizer.json'));
    assert.equal(gpt2.bosPolicy, 'none');
    for (const [tokenizer, name] of [[llama, 'llama-tiny'], [gpt2, 'gpt2-tiny']] as const) {
      for (const prompt of readReference(onnxModelDir(name)).prompts) assert.deepEqual(tokenizer.encode(prompt.prompt).ids, prompt.ids, prompt.prompt);
    }
  });
});

describe('unusable prompts', () => {
  test('empty text, and text that yields only special tokens, are unusable with a reason', () => {
    const tokenizer = ModelTokenizer.fromJson(wordLevel(BOS_TEMPLATE), {});
    const empty = tokenizer.encode('');
    assert.equal(empty.usable, false);
    assert.match(empty.reason ?? '', /empty/);
    const unknown = tokenizer.encode('zzz');
    assert.equal(unknown.usable, false, 'only <s> <unk>');
    assert.match(unknown.reason ?? '', /special tokens/);
    assert.equal(tokenizer.encode('zzz paris').usable, true);
  });
});
