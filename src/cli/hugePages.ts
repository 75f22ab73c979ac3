/**
 * @file Relaunch the heavy CLI commands with transparent huge pages for malloc (see src/core/runtime/hugePages.ts
 * for why and when). The relaunch happens before anything heavy is loaded; the child gets a marker so it never
 * relaunches again. Off unless `SPACETIME_PROBE_HUGE_PAGES=1` (the relaunch for supervision, supervise.ts, happens either way).
 */
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import { currentHugePageHost, hugePageEnv, type HugePageHost } from '../core/runtime/hugePages';
import { cleanUpAfterChild, keptMessage, PARENT_PIPE_ENV, STOP_GRACE_MS } from './supervise';

export { currentHugePageHost, type HugePageHost };

/** Commands whose work is dominated by large onnxruntime results. */
export const HUGE_PAGE_COMMANDS: ReadonlySet<string> = new Set(['run', 'extract', 'probe', 'experiment']);

/**
 * V8 flags for the child: TurboFan compiles on the thread that runs the code instead of on background threads.
 * A probe process compiles the same fitting code once in each of its fit workers (probes/ridgePool.ts); compiled in
 * the background, that cost ~0.9 CPU-s on threads of its own against ~0.15 s when compiled in place, and the whole
 * `probe` of 10,000 × 768 × 4 layers took 2.42–2.47 s against 2.53–2.63 s (2-core VM, 2026-12-02, BENCHMARKS.md).
 */
export const CHILD_V8_FLAGS: readonly string[] = ['--no-concurrent-recompilation'];

/** Set in the child so that it never relaunches again. */
export const MARKER = 'SPACETIME_PROBE_RELAUNCHED';

/**
 * The environment to relaunch with, or undefined when the current process should just go on: a light command,
 * already relaunched, or hugePageEnv says no (not asked for, not Linux/glibc ≥ 2.35 with THP, tunable already set).
 */
export function hugePageRelaunchEnv(command: string | undefined, env: NodeJS.ProcessEnv, host: HugePageHost | (() => HugePageHost)): NodeJS.ProcessEnv | undefined {
  if (command === undefined || !HUGE_PAGE_COMMANDS.has(command)) return undefined;
  if (env[MARKER] !== undefined) return undefined;
  const withHugePages = hugePageEnv(env, host);
  return withHugePages === undefined ? undefined : { ...withHugePages, [MARKER]: '1' };
}

/**
 * Commands that never open a network connection (they read local files and write local files). Their child starts
 * without NODE_EXTRA_CA_CERTS: Node reads and parses that whole certificate file at every process start, before any
 * script runs — 56 ms of the 87 ms a bare `node -e 0` took on the benchmark VM, where it names the system bundle
 * (2026-12-03, `hyperfine -N 'node -e 0' 'env -u NODE_EXTRA_CA_CERTS node -e 0'`) — and only TLS connections use it.
 */
export const OFFLINE_COMMANDS: ReadonlySet<string> = new Set(['probe']);

/** The environment of a relaunched `command`'s child: `env`, less what an OFFLINE_COMMANDS child never uses. */
export function childEnv(command: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!OFFLINE_COMMANDS.has(command) || env.NODE_EXTRA_CA_CERTS === undefined) return env;
  const { NODE_EXTRA_CA_CERTS: _unused, ...rest } = env;
  return rest;
}

/** The child's command line: this process's Node options, CHILD_V8_FLAGS not given either way, then the script and its arguments. */
export function childArguments(execArgv: readonly string[], argv: readonly string[]): string[] {
  const name = (flag: string): string => flag.split('=')[0].replace(/^--no-/, '--').replace(/_/g, '-');
  const flags = CHILD_V8_FLAGS.filter((flag) => !execArgv.some((given) => name(given) === name(flag)));
  return [...execArgv, ...flags, ...argv.slice(1)];
}

/**
 * Run this same CLI invocation in a child process with `env` (and CHILD_V8_FLAGS, unless this process was given
 * them or their opposites) and resolve to the exit code it should end with.
 * Standard streams are shared; fd 3 is a pipe the child watches to die with this process (supervise.ts).
 * SIGTERM and SIGHUP are passed on; so is SIGINT unless a terminal sends it to the whole process group anyway
 * (a second SIGINT would skip the child's clean stop). A child that has not stopped STOP_GRACE_MS after a stop
 * request is killed; after a child killed by any signal, its partial folders are removed and what was kept is said.
 */
export function relaunch(env: NodeJS.ProcessEnv): Promise<number> {
  const argv = process.argv.slice(2);
  const child = spawn(process.execPath, childArguments(process.execArgv, process.argv), {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'], env: { ...env, [PARENT_PIPE_ENV]: '3' },
  });
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];
  let stopRequested: NodeJS.Signals | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const handlers = signals.map((signal) => {
    const handler = () => {
      if (signal !== 'SIGINT' || !process.stdin.isTTY) child.kill(signal);
      if (stopRequested === undefined) {
        stopRequested = signal;
        killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      }
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
      if (killTimer) clearTimeout(killTimer);
      if (signal === null) {
        resolve(code ?? 1);
        return;
      }
      // Killed (by us after the grace period, or by someone else): clean up after it and say what was kept.
      void cleanUpAfterChild(argv).catch(() => [] as string[]).then((removed) => {
        const why = stopRequested !== undefined && signal === 'SIGKILL'
          ? `stopped on ${stopRequested} (the run did not reach a stopping point within ${STOP_GRACE_MS / 1000} s and was ended)`
          : `the working process was killed by ${signal}`;
        process.stderr.write(`spacetime-probe: ${why}; ${keptMessage(argv, removed)}\n`);
        const reported = stopRequested ?? signal;
        resolve(128 + (os.constants.signals[reported] ?? 0));
      });
    });
  });
}
