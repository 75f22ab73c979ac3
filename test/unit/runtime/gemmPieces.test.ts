/**
 * Large products are run as several onnxruntime runs (linalg.ts OrtGemm.gemmInPieces) so that the event loop —
 * and with it a SIGTERM handler — gets a turn between them even in one process. The pieces must not change a
 * single bit: every transpose combination, with and without C, through `out` or not, split over rows or columns,
 * equals the one-run product exactly; and the event loop does turn between the pieces.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { OrtGemm } from '../../../src/core/runtime/linalg';

function random(length: number, seed: number): Float64Array {
  let state = seed;
  return Float64Array.from({ length }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  });
}

test('a product split into pieces equals the one-run product bit for bit', async () => {
  const whole = new OrtGemm(2);
  const pieces = new OrtGemm(2, 5_000);
  try {
    const [m, k, n] = [37, 29, 41];
    for (const transA of [false, true]) for (const transB of [false, true]) for (const withC of [false, true]) for (const withOut of [false, true]) {
      for (const dtype of ['float64', 'float32'] as const) {
        const make = (length: number, seed: number) => (dtype === 'float32' ? Float32Array.from(random(length, seed)) : random(length, seed));
        const a = { data: make(m * k, 1), rows: transA ? k : m, cols: transA ? m : k };
        const b = { data: make(k * n, 2), rows: transB ? n : k, cols: transB ? k : n };
        const c = withC ? { c: { data: make(m * n, 3), rows: m, cols: n } } : {};
        const options = { transA, transB, alpha: 0.5, beta: 2, ...c };
        const expected = await whole.gemm(dtype, a as never, b as never, options as never);
        const out = withOut ? { out: make(m * n, 4) } : {};
        const actual = await pieces.gemm(dtype, a as never, b as never, { ...options, ...out } as never);
        assert.deepEqual(Array.from(actual), Array.from(expected), `${dtype} transA=${transA} transB=${transB} C=${withC} out=${withOut}`);
        if (withOut) assert.equal(actual, out.out);
      }
    }
  } finally {
    await whole.dispose();
    await pieces.dispose();
  }
});

test('timers run between the pieces of one large product', async () => {
  const pieces = new OrtGemm(1, 200_000);
  try {
    const size = 300;
    // Count event-loop turns with a setImmediate chain (one step per turn), not timer ticks: the count then
    // follows the number of runs, not how fast this machine is (an interval's count failed on a quick run).
    const a = { data: random(size * size, 5), rows: size, cols: size };
    const b = { data: random(size * size, 6), rows: size, cols: size };
    await pieces.gemm('float64', a, b, { transA: true }); // sessions created first: their start is asynchronous
    let turns = 0;
    let done = false;
    const step = (): void => { turns++; if (!done) setImmediate(step); };
    setImmediate(step);
    // 2·300³ = 5.4e7 flops in pieces of at most 2e5: about 270 runs, each followed by an event-loop turn.
    await pieces.gemm('float64', a, b, { transA: true });
    done = true;
    assert.ok(turns >= 50, `the event loop turned ${turns} times during the split product`);
  } finally {
    await pieces.dispose();
  }
});
