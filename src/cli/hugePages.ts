/**
 * @file Relaunch the heavy CLI commands with transparent huge pages for malloc (Linux with glibc ≥ 2.35).
 *
 * Why: onnxruntime-node hands every result back in freshly allocated memory — each activation batch, each Gemm of
 * the ridge fit (covariance, projection, sweeps). With 4 KiB pages every first touch is a page fault, and on
 * virtual machines a fault can cost more than the arithmetic that fills the page: on the 2-core benchmark VM a
 * 4,096 × 64 × 4,096 float64 Gemm takes ~480 ms with 4 KiB pages and ~40 ms with huge pages, and the ridge fit at
 * d = 768 drops from 1.39 to 1.28 s per layer (BENCHMARKS.md). NumPy already asks the kernel for huge pages for its
 * large arrays (madvise); glibc's malloc does so only when told through `GLIBC_TUNABLES=glibc.malloc.hugetlb=1`,
 * which is read once at process start — so the CLI starts itself again with it, before loading anything heavy.
 *
 * Opt out with `SPACETIME_PROBE_HUGE_PAGES=0`. Nothing changes in the results; only where memory comes from.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';

/** Commands whose work is dominated by large onnxruntime results. */
export const HUGE_PAGE_COMMANDS: ReadonlySet<string> = new Set(['run', 'extract', 'probe', 'experiment']);

const TUNABLE = 'glibc.malloc.hugetlb=1';
const MARKER = 'SPACETIME_PROBE_RELAUNCHED';

export interface HugePageHost {
  readonly platform: NodeJS.Platform;
  /** glibc version of the running process ("2.36"), undefined for musl or non-Linux. */
  readonly glibcVersion: string | undefined;
  /** The bracketed mode of /sys/kernel/mm/transparent_hugepage/enabled ("always", "madvise", "never"), if readable. */
  readonly transparentHugePages: string | undefined;
}

/**
 * The environment to relaunch with, or undefined when the current process should just go on: not Linux/glibc,
 * glibc older than 2.35 (no hugetlb tunable), huge pages disabled, opted out, already relaunched, or the tunable
 * already set by the user.
 */
export function hugePageRelaunchEnv(command: string | undefined, env: NodeJS.ProcessEnv, host: HugePageHost): NodeJS.ProcessEnv | undefined {
  if (command === undefined || !HUGE_PAGE_COMMANDS.has(command)) return undefined;
  if (env[MARKER] !== undefined || env.SPACETIME_PROBE_HUGE_PAGES === '0') return undefined;
  if (host.platform !== 'linux' || host.glibcVersion === undefined) return undefined;
  const [major, minor] = host.glibcVersion.split('.').map(Number);
  if (!(major > 2 || (major === 2 && minor >= 35))) return undefined;
  if (host.transparentHugePages !== 'always' && host.transparentHugePages !== 'madvise') return undefined;
  const tunables = env.GLIBC_TUNABLES ?? '';
  if (tunables.includes('glibc.malloc.hugetlb')) return undefined; // the user decided already
  return { ...env, GLIBC_TUNABLES: tunables === '' ? TUNABLE : `${tunables}:${TUNABLE}`, [MARKER]: '1' };
}

/** What this process runs on (see HugePageHost). */
export function currentHugePageHost(): HugePageHost {
  let transparentHugePages: string | undefined;
  try {
    transparentHugePages = /\[(\w+)\]/.exec(fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1];
  } catch {
    transparentHugePages = undefined;
  }
  const header = process.platform === 'linux' ? (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header : undefined;
  return { platform: process.platform, glibcVersion: header?.glibcVersionRuntime, transparentHugePages };
}

/**
 * Run this same CLI invocation in a child process with `env` and resolve to the exit code it should end with.
 * Standard streams are shared. SIGTERM and SIGHUP are passed on; so is SIGINT unless a terminal sends it to the
 * whole process group anyway (a second SIGINT would skip the child's clean stop).
 */
export function relaunch(env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env });
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];
  const handlers = signals.map((signal) => {
    const handler = () => {
      if (signal !== 'SIGINT' || !process.stdin.isTTY) child.kill(signal);
    };
    process.on(signal, handler);
    return () => process.off(signal, handler);
  });
  return new Promise((resolve) => {
    child.on('error', (error) => {
      process.stderr.write(`spacetime-probe: could not start ${process.execPath}: ${error.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      for (const remove of handlers) remove();
      resolve(code ?? 128 + (signal === null ? 0 : (os.constants.signals[signal] ?? 0)));
    });
  });
}
