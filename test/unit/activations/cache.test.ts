import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ActivationCache, type CacheNamespace, type CacheNamespaceKey } from '../../../src/core/activations/cache';
import { RECORD_HEADER_BYTES } from '../../../src/core/activations/cacheFormat';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../../../src/core/util/float16';

const LAYERS = 3;
const HIDDEN = 8;
const KEY: CacheNamespaceKey = { fingerprint: 'f'.repeat(64), template: '{name}', numLayers: LAYERS, hiddenSize: HIDDEN, modelId: 'test:model' };
const RECORD_BYTES = RECORD_HEADER_BYTES + LAYERS * HIDDEN * 4;

/** Deterministic stand-in for a model: vectors derived from the text, so any mix-up is visible. */
function fakeVectors(texts: readonly string[]): Float32Array {
  const out = new Float32Array(texts.length * LAYERS * HIDDEN);
  texts.forEach((text, row) => {
    let hash = 2166136261;
    for (const char of text) hash = Math.imul(hash ^ char.codePointAt(0)!, 16777619);
    for (let index = 0; index < LAYERS * HIDDEN; index += 1) {
      hash = Math.imul(hash ^ index, 16777619);
      out[row * LAYERS * HIDDEN + index] = ((hash >>> 0) / 2 ** 32 - 0.5) * 10;
    }
  });
  return out;
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'activation-cache-test-'));
}

/** What the extraction engine does with the seam: look up, compute the misses, store them. Returns texts computed. */
async function extractWithCache(namespace: CacheNamespace, texts: readonly string[], batch = 64): Promise<{ computed: string[]; vectors: Float32Array }> {
  const computed: string[] = [];
  const vectors = new Float32Array(texts.length * LAYERS * HIDDEN);
  for (let start = 0; start < texts.length; start += batch) {
    const slice = texts.slice(start, start + batch);
    const cached = await namespace.lookup(slice);
    const missing = slice.filter((_, index) => !cached[index]);
    const fresh = fakeVectors(missing);
    if (missing.length > 0) await namespace.store(missing, fresh);
    computed.push(...missing);
    let next = 0;
    slice.forEach((_, index) => {
      const row = cached[index] ?? fresh.subarray(next * LAYERS * HIDDEN, (next += 1) * LAYERS * HIDDEN);
      vectors.set(row, (start + index) * LAYERS * HIDDEN);
    });
  }
  return { computed, vectors };
}

function rowOf(vectors: Float32Array, row: number): number[] {
  return [...vectors.subarray(row * LAYERS * HIDDEN, (row + 1) * LAYERS * HIDDEN)];
}

function chunkFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (folder: string) => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.chunk')) found.push(full);
    }
  };
  walk(dir);
  return found.sort();
}

test('hits return exactly the stored vectors; other texts, models and templates miss', async () => {
  const dir = tempDir();
  try {
    const texts = ['Paris', 'New York', 'São Paulo', 'Zürich'];
    const first = await new ActivationCache({ dir }).namespace(KEY);
    assert.deepEqual(await first.lookup(texts), [undefined, undefined, undefined, undefined]);
    await first.store(texts, fakeVectors(texts));
    await first.close();
    const again = await new ActivationCache({ dir }).namespace(KEY);
    const hits = await again.lookup([...texts, 'Berlin']);
    texts.forEach((text, row) => assert.deepEqual([...hits[row]!], rowOf(fakeVectors(texts), row), text));
    assert.equal(hits[4], undefined);
    assert.deepEqual(again.stats, { hits: 4, misses: 1, stored: 0, corrupt: 0 });
    assert.deepEqual(again.has(['Paris', 'Berlin']), [true, false]);
    await again.close();
    for (const other of [{ ...KEY, fingerprint: 'e'.repeat(64) }, { ...KEY, template: 'Where is {name}?' }]) {
      const namespace = await new ActivationCache({ dir }).namespace(other);
      assert.deepEqual(await namespace.lookup(texts), [undefined, undefined, undefined, undefined]);
      await namespace.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('editing one row of a dataset re-extracts exactly that entity', async () => {
  const dir = tempDir();
  try {
    const texts = Array.from({ length: 2000 }, (_, index) => `Place number ${index}`);
    const cache = new ActivationCache({ dir });
    const first = await cache.namespace(KEY);
    assert.equal((await extractWithCache(first, texts)).computed.length, 2000);
    await first.close();
    const edited = [...texts];
    edited[1234] = 'Place number 1234 (renamed)';
    const second = await cache.namespace(KEY);
    const { computed, vectors } = await extractWithCache(second, edited);
    await second.close();
    assert.deepEqual(computed, ['Place number 1234 (renamed)']);
    assert.deepEqual(rowOf(vectors, 1234), rowOf(fakeVectors([edited[1234]]), 0));
    assert.deepEqual(rowOf(vectors, 7), rowOf(fakeVectors([texts[7]]), 0));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a corrupted record is detected, reported as a miss with a warning, recomputed, and the fresh copy wins', async () => {
  const dir = tempDir();
  try {
    const texts = ['alpha', 'beta', 'gamma'];
    const writer = await new ActivationCache({ dir }).namespace(KEY);
    await writer.store(texts, fakeVectors(texts));
    await writer.close();
    const [chunk] = chunkFiles(dir);
    const bytes = fs.readFileSync(chunk);
    bytes[RECORD_BYTES + RECORD_HEADER_BYTES + 5] ^= 0x10; // a bit flip inside beta's payload
    fs.writeFileSync(chunk, bytes);
    const logged: string[] = [];
    const reader = await new ActivationCache({ dir, log: (line) => logged.push(line) }).namespace(KEY);
    const { computed, vectors } = await extractWithCache(reader, texts);
    await reader.close();
    assert.deepEqual(computed, ['beta']);
    assert.equal(reader.stats.corrupt, 1);
    assert.match(logged.join('\n'), /record for "beta" in chunk .* is unusable \(payload checksum mismatch\); recomputing it/);
    assert.deepEqual(rowOf(vectors, 1), rowOf(fakeVectors(['beta']), 0));
    const later = await new ActivationCache({ dir }).namespace(KEY);
    const hits = await later.lookup(texts);
    assert.deepEqual([...hits[1]!], rowOf(fakeVectors(['beta']), 0));
    assert.equal(later.stats.corrupt, 0);
    await later.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a header or index that was damaged is never trusted', async () => {
  const dir = tempDir();
  try {
    const texts = ['one', 'two'];
    const writer = await new ActivationCache({ dir }).namespace(KEY);
    await writer.store(texts, fakeVectors(texts));
    await writer.close();
    const [chunk] = chunkFiles(dir);
    const indexFile = chunk.replace(/\.chunk$/, '.idx');
    const goodIndex = fs.readFileSync(indexFile);
    const index = Buffer.from(goodIndex);
    index[30] ^= 0xff;
    fs.writeFileSync(indexFile, index);
    const logged: string[] = [];
    const rescanned = await new ActivationCache({ dir, log: (line) => logged.push(line) }).namespace(KEY);
    assert.match(logged.join('\n'), /index .*\.idx is damaged or does not match its chunk; re-scanning/);
    assert.deepEqual([...(await rescanned.lookup(['two']))[0]!], rowOf(fakeVectors(['two']), 0));
    await rescanned.close();
    // Overwrite the second record's key bytes: the (intact) index still points there, the record no longer matches.
    fs.writeFileSync(indexFile, goodIndex);
    const bytes = fs.readFileSync(chunk);
    bytes.fill(0x41, RECORD_BYTES + 8, RECORD_BYTES + 24);
    fs.writeFileSync(chunk, bytes);
    const reader = await new ActivationCache({ dir }).namespace(KEY);
    const hits = await reader.lookup(texts);
    assert.ok(hits[0]);
    assert.equal(hits[1], undefined);
    assert.match(reader.warnings.join('\n'), /record for "two" .* unusable \(record header is invalid/);
    await reader.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a torn write (killed mid-record, no index yet) keeps the complete records and drops the torn one', async () => {
  const dir = tempDir();
  try {
    const texts = ['a', 'b', 'c', 'd'];
    const writer = await new ActivationCache({ dir }).namespace(KEY);
    await writer.store(texts, fakeVectors(texts));
    await writer.close();
    const [chunk] = chunkFiles(dir);
    fs.rmSync(chunk.replace(/\.chunk$/, '.idx'));
    fs.truncateSync(chunk, 3 * RECORD_BYTES + 17);
    const reader = await new ActivationCache({ dir }).namespace(KEY);
    assert.match(reader.warnings.join('\n'), /17 unreadable trailing byte\(s\)/);
    const hits = await reader.lookup(texts);
    assert.deepEqual(hits.map(Boolean), [true, true, true, false]);
    assert.deepEqual([...hits[2]!], rowOf(fakeVectors(['c']), 0));
    await reader.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a writer process killed with SIGKILL mid-run never yields wrong vectors', async () => {
  const dir = tempDir();
  try {
    const moduleFile = path.resolve(__dirname, '../../../src/core/activations/cache.js');
    // The child stores deterministic vectors (the same function as fakeVectors) in batches until killed.
    const script = `
      const { ActivationCache } = require(${JSON.stringify(moduleFile)});
      const fake = ${fakeVectors.toString()};
      const LAYERS = ${LAYERS}, HIDDEN = ${HIDDEN};
      (async () => {
        const namespace = await new ActivationCache({ dir: ${JSON.stringify(dir)}, indexEvery: 50 }).namespace(${JSON.stringify(KEY)});
        for (let batch = 0; ; batch += 1) {
          const texts = Array.from({ length: 10 }, (_, i) => 'entity ' + (batch * 10 + i));
          await namespace.store(texts, fake(texts));
          if (batch === 30) process.stdout.write('ready\\n');
        }
      })();`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (data: Buffer) => { if (data.toString().includes('ready')) resolve(); });
      child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    const reader = await new ActivationCache({ dir }).namespace(KEY);
    const texts = Array.from({ length: reader.size + 500 }, (_, index) => `entity ${index}`);
    const hits = await reader.lookup(texts);
    let found = 0;
    hits.forEach((hit, row) => {
      if (!hit) return;
      found += 1;
      assert.deepEqual([...hit], rowOf(fakeVectors([texts[row]]), 0), texts[row]);
    });
    assert.ok(found >= 310, `expected at least the 310 records written before "ready", got ${found}`);
    assert.equal(reader.stats.corrupt, 0);
    await reader.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a full disk disables caching with a warning; results and earlier records are unaffected', async () => {
  const dir = tempDir();
  try {
    let failNext = false;
    const logged: string[] = [];
    const cache = new ActivationCache({
      dir,
      log: (line) => logged.push(line),
      faults: {
        beforeWrite() {
          if (!failNext) return;
          throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        },
      },
    });
    const namespace = await cache.namespace(KEY);
    await namespace.store(['kept'], fakeVectors(['kept']));
    failNext = true;
    await namespace.store(['lost'], fakeVectors(['lost']));
    await namespace.store(['also lost'], fakeVectors(['also lost']));
    await namespace.close();
    assert.match(logged.join('\n'), /disk full, ENOSPC.*caching is off for the rest of this run/);
    assert.equal(logged.filter((line) => line.includes('ENOSPC')).length, 1);
    const reader = await new ActivationCache({ dir }).namespace(KEY);
    const hits = await reader.lookup(['kept', 'lost', 'also lost']);
    assert.deepEqual([...hits[0]!], rowOf(fakeVectors(['kept']), 0));
    assert.deepEqual(hits.slice(1), [undefined, undefined]);
    assert.deepEqual(reader.warnings, []);
    await reader.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('float16 namespaces round the caller\'s vectors in place to exactly what later lookups return', async () => {
  const dir = tempDir();
  try {
    const texts = ['x', 'y'];
    const original = fakeVectors(texts);
    const vectors = new Float32Array(original);
    const namespace = await new ActivationCache({ dir, dtype: 'float16' }).namespace(KEY);
    await namespace.store(texts, vectors);
    await namespace.close();
    for (let index = 0; index < original.length; index += 1) {
      assert.equal(vectors[index], float16BitsToFloat32(float32ToFloat16Bits(original[index])));
    }
    const reader = await new ActivationCache({ dir, dtype: 'float16' }).namespace(KEY);
    const hits = await reader.lookup(texts);
    assert.deepEqual([...hits[0]!, ...hits[1]!], [...vectors]);
    await reader.close();
    // float32 and float16 records live in different namespaces.
    const other = await new ActivationCache({ dir }).namespace(KEY);
    assert.deepEqual(await other.lookup(texts), [undefined, undefined]);
    await other.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('concurrent writers and a reader during a write share a namespace safely', async () => {
  const dir = tempDir();
  try {
    const cache = new ActivationCache({ dir, indexEvery: 3 });
    const [left, right] = await Promise.all([cache.namespace(KEY), cache.namespace(KEY)]);
    const leftTexts = Array.from({ length: 20 }, (_, index) => `left ${index}`);
    const rightTexts = Array.from({ length: 20 }, (_, index) => `right ${index}`);
    await Promise.all([
      (async () => { for (const text of leftTexts) await left.store([text], fakeVectors([text])); })(),
      (async () => { for (const text of rightTexts) await right.store([text], fakeVectors([text])); })(),
    ]);
    // Before either writer closes: a new reader sees every record (indexes plus scanned tails).
    const reader = await new ActivationCache({ dir }).namespace(KEY);
    const all = [...leftTexts, ...rightTexts];
    const hits = await reader.lookup(all);
    hits.forEach((hit, row) => assert.deepEqual([...hit!], rowOf(fakeVectors([all[row]]), 0), all[row]));
    await Promise.all([left.close(), right.close(), reader.close()]);
    assert.equal(chunkFiles(dir).length, 2);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the size cap evicts least recently used chunks; info and clear report sizes', async () => {
  const dir = tempDir();
  try {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const texts = Array.from({ length: 10 }, (_, index) => `row ${index}`);
    const chunkSize = 10 * RECORD_BYTES;
    const keyFor = (name: string): CacheNamespaceKey => ({ ...KEY, fingerprint: name.repeat(64), modelId: `model ${name}` });
    const fill = async (name: string, maxBytes: number) => {
      const namespace = await new ActivationCache({ dir, maxBytes }).namespace(keyFor(name));
      await namespace.store(texts, fakeVectors(texts));
      await namespace.close();
      await sleep(30);
    };
    // Two chunks (+ their 268-byte indexes) and three namespace.json files (~300 bytes each) fit; three chunks do not.
    const roomForTwo = 2 * (chunkSize + 268) + 3 * 400 + 200;
    await fill('a', roomForTwo);
    await fill('b', roomForTwo);
    // Reading a makes it more recent than b.
    const touch = await new ActivationCache({ dir, maxBytes: roomForTwo }).namespace(keyFor('a'));
    assert.ok((await touch.lookup(texts)).every(Boolean));
    await touch.close();
    await sleep(30);
    const logged: string[] = [];
    const cacheC = new ActivationCache({ dir, maxBytes: roomForTwo, log: (line) => logged.push(line) });
    const c = await cacheC.namespace(keyFor('c'));
    await c.store(texts, fakeVectors(texts));
    await c.close();
    assert.match(logged.join('\n'), /evicted 1 least recently used chunk/);
    const info = await cacheC.info();
    const present = info.namespaces.filter((namespace) => namespace.chunks > 0).map((namespace) => namespace.modelId).sort();
    assert.deepEqual(present, ['model a', 'model c']);
    assert.ok(info.bytes <= roomForTwo);
    assert.equal(info.namespaces.find((namespace) => namespace.modelId === 'model a')?.records, 10);
    const cleared = await cacheC.clear();
    assert.equal(cleared.bytes, info.bytes);
    assert.equal((await cacheC.info()).bytes, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a chunk deleted by another process is a miss with a warning, not an error', async () => {
  const dir = tempDir();
  try {
    const writer = await new ActivationCache({ dir }).namespace(KEY);
    await writer.store(['p', 'q'], fakeVectors(['p', 'q']));
    await writer.close();
    const reader = await new ActivationCache({ dir }).namespace(KEY);
    await new ActivationCache({ dir }).clear();
    assert.deepEqual(await reader.lookup(['p', 'q']), [undefined, undefined]);
    assert.match(reader.warnings.join('\n'), /no longer readable \(ENOENT/);
    await reader.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the token read is part of the key: entity-last has its own namespace; prompt-last keeps the key of older caches', async () => {
  const dir = tempDir();
  try {
    const cache = new ActivationCache({ dir });
    const older = await cache.namespace(KEY);
    await extractWithCache(older, ['Where is Paris?']);
    await older.close();
    const promptLast = await cache.namespace({ ...KEY, token: 'prompt-last' });
    assert.deepEqual((await extractWithCache(promptLast, ['Where is Paris?'])).computed, [], 'same namespace as before the choice existed');
    await promptLast.close();
    const entityLast = await cache.namespace({ ...KEY, token: 'entity-last' });
    assert.deepEqual((await extractWithCache(entityLast, ['Where is Paris?'])).computed, ['Where is Paris?']);
    await entityLast.close();
    const info = await cache.info();
    assert.deepEqual(info.namespaces.map((namespace) => namespace.token).sort(), ['entity-last', 'prompt-last']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
