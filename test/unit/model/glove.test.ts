import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GloveModel, resolveGloveDir } from '../../../src/core/model/glove/glove';
import { convertWinkToGlove, parseWinkEmbeddings } from '../../../src/core/model/glove/gloveBuild';
import { GLOVE_VARIANTS, quantizeRowsInt8, dequantizeRowInt8 } from '../../../src/core/model/glove/gloveOnnx';
import { foldAccents, GLOVE_FOLD_RULE, GloveVocabulary, gloveWordTokens } from '../../../src/core/model/glove/gloveTokenizer';
import { renderEntityPrompt } from '../../../src/core/activations/extract';

const DIMS = 6;
const WORDS = ['the', ',', '.', 'paris', 'new', 'york', "'", 's', 'são', 'paulo', 'st', 'john', '(', ')', '-', 'köln', 'zero'];

/** A small file in wink's format with pseudo-random vectors (the row `zero` is all zeros: scale 0 in int8). */
function writeWinkFixture(dir: string): { file: string; vectors: Map<string, number[]> } {
  let seed = 7;
  const random = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const vectors = new Map<string, number[]>();
  const json: Record<string, number[]> = {};
  WORDS.forEach((word, index) => {
    const vector = word === 'zero' ? new Array(DIMS).fill(0) : Array.from({ length: DIMS }, () => Math.round((random() * 4 - 2) * 1e5) / 1e5);
    vectors.set(word, vector);
    json[word] = [...vector, Math.hypot(...vector), index];
  });
  const file = path.join(dir, 'wink.json');
  fs.writeFileSync(file, JSON.stringify({ precision: 5, l2NormIndex: DIMS, wordIndex: DIMS + 1, size: WORDS.length, dimensions: DIMS, words: WORDS, vectors: json }));
  return { file, vectors };
}

function meanOf(vectors: Map<string, number[]>, tokens: string[]): number[] {
  const known = tokens.filter((token) => vectors.has(token));
  return Array.from({ length: DIMS }, (_, d) => known.reduce((sum, token) => sum + vectors.get(token)![d], 0) / known.length);
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'glove-test-'));
}

test('word tokens: lower-cased runs of letters/numbers/_ and single punctuation marks (Python \\w+|[^\\w\\s])', () => {
  assert.deepEqual(gloveWordTokens("St. John's (Newfoundland)"), ['st', '.', 'john', "'", 's', '(', 'newfoundland', ')']);
  assert.deepEqual(gloveWordTokens('São Paulo'), ['são', 'paulo']);
  assert.deepEqual(gloveWordTokens('Köln-Bonn'), ['köln', '-', 'bonn']);
  assert.deepEqual(gloveWordTokens('a_b 3.5km'), ['a_b', '3', '.', '5km']);
  assert.deepEqual(gloveWordTokens('北京 市'), ['北京', '市']);
  // A combining mark is not a word character in Python's \w either: it becomes a token of its own.
  assert.deepEqual(gloveWordTokens('cafe\u0301'), ['cafe', '\u0301']);
  assert.deepEqual(gloveWordTokens(' \u00a0 '), []);
});

test('vocabulary coverage counts all-known, partly-known and none-known texts', () => {
  const vocabulary = new GloveVocabulary(['new', 'york', 'paris']);
  const coverage = vocabulary.coverage(['New York', 'Paris Hilton', 'Zzyzx', '', 'paris']);
  assert.equal(coverage.allKnown, 2);
  assert.equal(coverage.partlyKnown, 1);
  assert.equal(coverage.noneKnown, 2);
  assert.deepEqual(coverage.noneKnownIndices, [2, 3]);
  assert.throws(() => new GloveVocabulary(['a', 'b', 'a']), /duplicate word "a"/);
  assert.equal(GloveVocabulary.fromText('a\nb\n').size, 2);
});

test('int8 per-row quantisation stays within max|row|/254 and maps zero rows to zero', () => {
  const table = new Float32Array([0.5, -1, 0.25, 0, 0, 0, 3, 2.9, -0.001]);
  const quantized = quantizeRowsInt8(table, 3, 3);
  for (let row = 0; row < 3; row += 1) {
    const restored = dequantizeRowInt8(quantized, row, 3);
    const maxAbs = Math.max(...[0, 1, 2].map((d) => Math.abs(table[row * 3 + d])));
    for (let d = 0; d < 3; d += 1) assert.ok(Math.abs(restored[d] - table[row * 3 + d]) <= maxAbs / 254 + 1e-7);
  }
  assert.deepEqual([...dequantizeRowInt8(quantized, 1, 3)], [0, 0, 0]);
});

test('wink JSON is checked for consistency', () => {
  const bad = { size: 2, dimensions: 2, words: ['a', 'b'], vectors: { a: [1, 2, 2.2, 0], b: [1, 2, 2.2, 0] } };
  assert.throws(() => parseWinkEmbeddings(JSON.stringify(bad), 'x.json'), /word "b" is at row 1 of words but its vector says index 0/);
  const newline = { size: 1, dimensions: 2, words: ['a\nb'], vectors: { 'a\nb': [1, 2, 2.2, 0] } };
  assert.throws(() => parseWinkEmbeddings(JSON.stringify(newline), 'x.json'), /line break/);
  assert.throws(() => parseWinkEmbeddings('{"a":1}', 'x.json'), /x\.json: not a wink embeddings file/);
});

for (const variant of GLOVE_VARIANTS) {
  test(`${variant}: the ONNX model returns the mean of known token vectors, padded batches included`, async () => {
    const dir = tempDir();
    try {
      const { file, vectors } = writeWinkFixture(dir);
      const manifest = convertWinkToGlove({ source: file, outDir: path.join(dir, 'model'), variant });
      assert.equal(manifest.rows, WORDS.length);
      assert.equal(manifest.dims, DIMS);
      const model = await GloveModel.load({ dir: path.join(dir, 'model') });
      try {
        assert.equal(model.numLayers, 1);
        assert.equal(model.hiddenSize, DIMS);
        assert.equal(model.device.used, 'cpu');
        const texts = ["St. John's", 'Paris', 'New York (Köln)', 'São Paulo-Paris, Unknownville', 'zero paris'];
        const prompts = model.tokenize(texts);
        assert.ok(prompts.every((prompt) => prompt.usable));
        const batched = await model.runBatch(prompts);
        assert.equal(batched.length, texts.length * DIMS);
        // Tolerance per variant: fp32 rounding; fp16 half an ulp at |v| < 2; int8 max|row|/254.
        const tolerance = { fp32: 1e-6, fp16: 2 ** -11 * 2, int8: 2 / 254 }[variant];
        texts.forEach((text, row) => {
          const expected = meanOf(vectors, gloveWordTokens(text));
          for (let d = 0; d < DIMS; d += 1) {
            assert.ok(Math.abs(batched[row * DIMS + d] - expected[d]) <= tolerance,
              `${variant} "${text}" dim ${d}: ${batched[row * DIMS + d]} vs ${expected[d]}`);
          }
        });
        // One at a time (no padding) must give the same numbers as the padded batch.
        for (let row = 0; row < texts.length; row += 1) {
          const single = await model.runBatch([prompts[row]]);
          assert.deepEqual([...single], [...batched.subarray(row * DIMS, (row + 1) * DIMS)]);
        }
      } finally {
        await model.dispose();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('unknown tokens: mean of known by default, skip-entity on request; no known token → unusable with a reason', async () => {
  const dir = tempDir();
  try {
    const { file } = writeWinkFixture(dir);
    convertWinkToGlove({ source: file, outDir: path.join(dir, 'model'), variant: 'fp32' });
    const lenient = await GloveModel.load({ dir: path.join(dir, 'model') });
    const strict = await GloveModel.load({ dir: path.join(dir, 'model'), unknownTokens: 'skip-entity' });
    const [partly, none, empty] = lenient.tokenize(['Paris Qwxz', 'Qwxz Vbnm', '   ']);
    assert.equal(partly.usable, true);
    assert.equal(partly.ids.length, 1);
    assert.equal(none.usable, false);
    assert.match(none.reason ?? '', /no token is in the GloVe vocabulary \("qwxz", "vbnm"\)/);
    assert.equal(empty.usable, false);
    const [strictPartly] = strict.tokenize(['Paris Qwxz']);
    assert.equal(strictPartly.usable, false);
    assert.match(strictPartly.reason ?? '', /not in the GloVe vocabulary: "qwxz"/);
    await assert.rejects(lenient.runBatch([none]), /prompt 0 is not usable/);
    await lenient.dispose();
    await strict.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a corrupted or truncated model file is refused, never loaded', async () => {
  const dir = tempDir();
  try {
    const { file } = writeWinkFixture(dir);
    const modelDir = path.join(dir, 'model');
    const manifest = convertWinkToGlove({ source: file, outDir: modelDir, variant: 'int8' });
    const first = await GloveModel.load({ dir: modelDir });
    assert.equal(first.fingerprint, `${manifest.fingerprint}:${GLOVE_FOLD_RULE}`);
    await first.dispose();
    const onnxFile = path.join(modelDir, 'model.onnx');
    const original = fs.readFileSync(onnxFile);
    const bytes = Buffer.from(original);
    bytes[bytes.length - 3] ^= 0x40;
    fs.writeFileSync(onnxFile, bytes);
    // Detected before any vector is produced: at session creation (a cached run never reads the graph).
    const damaged = await GloveModel.load({ dir: modelDir });
    await assert.rejects(damaged.runBatch(damaged.tokenize(['paris'])), /model\.onnx: does not match its manifest \(SHA-256 differs\)/);
    await damaged.dispose();
    fs.writeFileSync(onnxFile, original);
    // The embedding table is external data (memory-mapped by onnxruntime): checked the same way.
    assert.deepEqual(fs.readdirSync(modelDir).sort(), ['manifest.json', 'model.onnx', 'model.onnx_data', 'vocab.txt']);
    const dataFile = path.join(modelDir, 'model.onnx_data');
    const table = fs.readFileSync(dataFile);
    table[table.length - 7] ^= 0x01;
    fs.writeFileSync(dataFile, table);
    const damagedTable = await GloveModel.load({ dir: modelDir });
    await assert.rejects(damagedTable.runBatch(damagedTable.tokenize(['paris'])), /model\.onnx_data: does not match its manifest/);
    await damagedTable.dispose();
    table[table.length - 7] ^= 0x01;
    fs.writeFileSync(dataFile, table);
    const repaired = await GloveModel.load({ dir: modelDir });
    assert.equal((await repaired.runBatch(repaired.tokenize(['paris']))).length, DIMS);
    await repaired.dispose();
    fs.writeFileSync(onnxFile, bytes);
    const vocabFile = path.join(modelDir, 'vocab.txt');
    const vocab = fs.readFileSync(vocabFile, 'utf8');
    fs.writeFileSync(vocabFile, vocab.replace('paris', 'pariz'));
    await assert.rejects(GloveModel.load({ dir: modelDir }), /vocab\.txt: does not match its manifest/);
    fs.writeFileSync(vocabFile, vocab);
    fs.writeFileSync(onnxFile, bytes.subarray(0, 100));
    await assert.rejects(GloveModel.load({ dir: modelDir }), /100 bytes, manifest says/);
    // Rebuilding replaces the folder atomically and gives the same fingerprint for the same input.
    const again = convertWinkToGlove({ source: file, outDir: modelDir, variant: 'int8' });
    assert.equal(again.fingerprint, manifest.fingerprint);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['model', 'wink.json']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing model folder gives an error that says where it looked and how to build it', () => {
  assert.throws(() => resolveGloveDir({ dir: path.join(os.tmpdir(), 'no-such-glove-dir') }), /was not found \(looked in: .*no-such-glove-dir\).*npm run build/);
});

test('entity-last averages the entity\'s own words; prompt-last every word of the prompt', async () => {
  const dir = tempDir();
  try {
    const { file, vectors } = writeWinkFixture(dir);
    convertWinkToGlove({ source: file, outDir: path.join(dir, 'model'), variant: 'fp32' });
    const model = await GloveModel.load({ dir: path.join(dir, 'model') });
    try {
      const prompt = renderEntityPrompt('the {entity}, new', 'New York');
      const [entityLast] = model.tokenize([prompt]);
      const [promptLast] = model.tokenize([prompt.text]);
      assert.deepEqual(entityLast.ids, model.vocabulary.encode('New York').ids);
      assert.deepEqual(promptLast.ids, model.vocabulary.encode(prompt.text).ids);
      const [entityVector, promptVector] = [await model.runBatch([entityLast]), await model.runBatch([promptLast])];
      meanOf(vectors, ['new', 'york']).forEach((value, d) => assert.ok(Math.abs(entityVector[d] - value) < 1e-4));
      meanOf(vectors, ['the', 'new', 'york', ',', 'new']).forEach((value, d) => assert.ok(Math.abs(promptVector[d] - value) < 1e-4));
    } finally {
      await model.dispose();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('accent folding: a word missing from the vocabulary is looked up again NFKD-folded; an exact entry wins', async () => {
  assert.equal(foldAccents('bogotá'), 'bogota');
  assert.equal(foldAccents('türkiye'), 'turkiye');
  assert.equal(foldAccents('curaçao'), 'curacao');
  assert.equal(foldAccents('ﬁnland'), 'finland', 'NFKD also splits compatibility ligatures');
  const vocabulary = new GloveVocabulary(['bogota', 'turkiye', 'são', 'sao', 'curacao']);
  assert.deepEqual(vocabulary.encode('Bogotá', true), { tokens: ['bogotá'], ids: [0], unknown: [], folded: [['bogotá', 'bogota']] });
  assert.deepEqual(vocabulary.encode('Bogotá').ids, [], 'no folding unless asked');
  assert.deepEqual(vocabulary.encode('São Türkiye', true).ids, [2, 1], 'são is in the vocabulary as it is');
  assert.equal(vocabulary.coverage(['Curaçao', 'Bogotá', 'Qwxz'], true).noneKnown, 1);
  assert.equal(vocabulary.coverage(['Curaçao', 'Bogotá', 'Qwxz']).noneKnown, 3);
  const dir = tempDir();
  try {
    const { file } = writeWinkFixture(dir);
    const modelDir = path.join(dir, 'model');
    convertWinkToGlove({ source: file, outDir: modelDir, variant: 'fp32' });
    const folding = await GloveModel.load({ dir: modelDir });
    const strict = await GloveModel.load({ dir: modelDir, unknownTokens: 'skip-entity' });
    const exact = await GloveModel.load({ dir: modelDir, foldAccents: false });
    // The fixture has "köln" and "paris": "Koln" is found as is, "Pâris" only folded.
    assert.deepEqual(folding.tokenize(['Pâris'])[0].ids, folding.tokenize(['Paris'])[0].ids);
    assert.equal(exact.tokenize(['Pâris'])[0].usable, false);
    assert.equal(strict.tokenize(['Pâris'])[0].usable, false, 'the reference rule does not fold');
    assert.equal(strict.foldAccents, false);
    assert.notEqual(folding.fingerprint, exact.fingerprint);
    for (const model of [folding, strict, exact]) await model.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
