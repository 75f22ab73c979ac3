/**
 * @file Lazily created onnxruntime sessions of small generated graphs (one Gemm, one Scan), cached by key and kept
 * for the cache's lifetime: each holds only a tiny graph, and creating one costs a few milliseconds. Used by
 * linalg.ts (OrtGemm) and bandSweep.ts (OrtBandSweep), which differ only in the graph and the provider.
 */
import { ort } from './ort';

export class SmallSessionCache {
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();

  constructor(private readonly threads: number, private readonly device: 'cpu' | 'webgpu' | 'cuda' = 'cpu',
    private readonly graphOptimizationLevel?: 'disabled') {}

  /** The session for `key`, created from `model()` on first use. */
  get(key: string, model: () => Uint8Array): Promise<ort.InferenceSession> {
    let session = this.sessions.get(key);
    if (session === undefined) {
      session = ort.InferenceSession.create(model(), {
        executionProviders: [this.device],
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        ...(this.graphOptimizationLevel !== undefined ? { graphOptimizationLevel: this.graphOptimizationLevel } : {}),
        // No spin-waiting between runs: the probe engine alternates short runs with JavaScript work (and a
        // proximity-error worker thread), and on 2 cores threads spinning for the next run took that CPU away —
        // d = 768 ridge fit 1.3 → 1.05 s per layer, a gpt2-tiny re-run's probes 0.93 → 0.78 s (docs/probes.md).
        // SPACETIME_GEMM_SPIN=1 restores onnxruntime's default, for comparison.
        extra: { session: { intra_op: { allow_spinning: process.env.SPACETIME_GEMM_SPIN === '1' ? '1' : '0' } } },
      });
      this.sessions.set(key, session);
    }
    return session;
  }

  async dispose(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const session of sessions) await (await session).release();
  }
}
