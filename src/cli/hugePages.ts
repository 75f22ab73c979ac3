/**
 * @file Relaunch the heavy CLI commands with transparent huge pages for malloc (see src/core/runtime/hugePages.ts
 * for why and when). The relaunch happens before anything heavy is loaded; the child gets a marker so it never
 * relaunches again. Opt out with `SPACETIME_PROBE_HUGE_PAGES=0`.
 */
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import { currentHugePageHost, hugePageEnv, type HugePageHost } from '../core/runtime/hugePages';

export { currentHugePageHost, type HugePageHost };

/** Commands whose work is dominated by large onnxruntime results. */
export const HUGE_PAGE_COMMANDS: ReadonlySet<string> = new Set(['run', 'extract', 'probe', 'experiment']);

const MARKER = 'SPACETIME_PROBE_RELAUNCHED';

/**
 * The environment to relaunch with, or undefined when the current process should just go on: a light command,
 * already relaunched, or hugePageEnv says no (not Linux/glibc ≥ 2.35 with THP, opted out, tunable already set).
 */
export function hugePageRelaunchEnv(command: string | undefined, env: NodeJS.ProcessEnv, host: HugePageHost): NodeJS.ProcessEnv | undefined {
  if (command === undefined || !HUGE_PAGE_COMMANDS.has(command)) return undefined;
  if (env[MARKER] !== undefined) return undefined;
  const withHugePages = hugePageEnv(env, host);
  return withHugePages === undefined ? undefined : { ...withHugePages, [MARKER]: '1' };
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
