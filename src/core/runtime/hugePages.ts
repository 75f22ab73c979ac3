/**
 * @file When a process should be started with transparent huge pages for malloc, and the environment for it.
 *
 * Why: onnxruntime-node hands every result back in freshly allocated memory — each activation batch, each Gemm of
 * the ridge fit. With 4 KiB pages every first touch is a page fault, and on virtual machines a fault can cost more
 * than the arithmetic that fills the page: on the 2-core benchmark VM a 4,096 × 64 × 4,096 float64 Gemm takes
 * ~480 ms with 4 KiB pages and ~40 ms with huge pages; ridge fits run 1.4–1.8× faster (BENCHMARKS.md). NumPy already
 * asks the kernel for huge pages for its large arrays (madvise); glibc's malloc does so only when told through
 * `GLIBC_TUNABLES=glibc.malloc.hugetlb=1`, which is read once at process start. So the processes we start for heavy
 * work (the CLI's supervised child, the extension's probe worker) can be given it in their environment.
 *
 * Off unless asked for with `SPACETIME_PROBE_HUGE_PAGES=1`. It was the default until the probe fit stopped allocating
 * fresh result buffers (stored Qᵀ, shared panels, Gemms into preallocated outputs): measured side by side on the same
 * VMs on 2026-12-01, huge pages then cost 1–9 s of extra kernel time per d = 4,096 layer (BENCHMARKS.md, "Probe fitting"),
 * whole-process d = 768 runs were no faster, and the kernel's handling of 2 MB pages varies too much between
 * machines to be worth a default. Nothing changes in the results; only where memory comes from.
 */
import * as fs from 'node:fs';

const TUNABLE = 'glibc.malloc.hugetlb=1';

export interface HugePageHost {
  readonly platform: NodeJS.Platform;
  /** glibc version of the running process ("2.36"), undefined for musl or non-Linux. */
  readonly glibcVersion: string | undefined;
  /** The bracketed mode of /sys/kernel/mm/transparent_hugepage/enabled ("always", "madvise", "never"), if readable. */
  readonly transparentHugePages: string | undefined;
}

/**
 * `env` plus the huge-page tunable when asked for (`SPACETIME_PROBE_HUGE_PAGES=1`), or undefined when not asked for,
 * when it cannot help (not Linux/glibc, glibc older than 2.35 — no hugetlb tunable —, huge pages disabled) or when the
 * user set the tunable already. `host` may be a function: it is then read only when huge pages are asked for (a
 * process report costs a few milliseconds at every start of the CLI otherwise).
 */
export function hugePageEnv(env: NodeJS.ProcessEnv, hostOrRead: HugePageHost | (() => HugePageHost)): NodeJS.ProcessEnv | undefined {
  if (env.SPACETIME_PROBE_HUGE_PAGES !== '1') return undefined;
  const host = typeof hostOrRead === 'function' ? hostOrRead() : hostOrRead;
  if (host.platform !== 'linux' || host.glibcVersion === undefined) return undefined;
  const [major, minor] = host.glibcVersion.split('.').map(Number);
  if (!(major > 2 || (major === 2 && minor >= 35))) return undefined;
  if (host.transparentHugePages !== 'always' && host.transparentHugePages !== 'madvise') return undefined;
  const tunables = env.GLIBC_TUNABLES ?? '';
  if (tunables.includes('glibc.malloc.hugetlb')) return undefined; // the user decided already
  return { ...env, GLIBC_TUNABLES: tunables === '' ? TUNABLE : `${tunables}:${TUNABLE}` };
}

let currentHost: HugePageHost | undefined;

/** What this process runs on (see HugePageHost); read once (the glibc version comes from a ~7 ms process report). */
export function currentHugePageHost(): HugePageHost {
  currentHost ??= readHugePageHost();
  return currentHost;
}

function readHugePageHost(): HugePageHost {
  let transparentHugePages: string | undefined;
  try {
    transparentHugePages = /\[(\w+)\]/.exec(fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1];
  } catch {
    transparentHugePages = undefined;
  }
  const header = process.platform === 'linux' ? (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header : undefined;
  return { platform: process.platform, glibcVersion: header?.glibcVersionRuntime, transparentHugePages };
}
