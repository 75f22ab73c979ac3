/**
 * @file The heavy commands (run, extract, probe, experiment) run in a child process under a small supervisor
 * (the huge-page relaunch, hugePages.ts, is the same child). That gives three promises a single process cannot
 * keep while its thread is busy in a long synchronous fit:
 *
 * - SIGTERM (or SIGHUP) is honoured within STOP_GRACE_MS: it is passed on to the child, which stops cleanly at
 *   its next check; a child that has not exited by then is killed, and the supervisor removes its partial folders.
 *   Either way the user is told exactly what was kept.
 * - The child dies with its parent, even after `kill -9` of the parent: it holds the read end of a pipe (fd 3)
 *   whose write end only the parent has; end of file means the parent is gone. The child then stops, and it checks
 *   the parent once more (pipe and ppid) right before it would move any output into place.
 * - A child killed by a signal (the OOM killer, `kill -9`) leaves no partial folders: the supervisor removes them.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

/** The child gets the pipe as this fd and this variable set to it. */
export const PARENT_PIPE_ENV = 'SPACETIME_PROBE_PARENT_PIPE';
/** How long a stop request may take before the child is killed. */
export const STOP_GRACE_MS = 1500;

/** The output paths a command line writes to (for cleaning partial folders after the child died). */
export function outputTargets(argv: readonly string[]): string[] {
  const [command, ...args] = argv;
  const option = (name: string): string | undefined => {
    let value: string | undefined;
    args.forEach((arg, index) => {
      if (arg === `--${name}` && index + 1 < args.length) value = args[index + 1];
      else if (arg.startsWith(`--${name}=`)) value = arg.slice(name.length + 3);
    });
    return value;
  };
  if (command === 'extract') return [option('out')].filter((value): value is string => value !== undefined);
  if (command === 'run') {
    const out = option('out') ?? 'spacetime-probe-run';
    return [option('activations') ?? path.join(out, 'activations'), path.join(out, 'layer_predictions')];
  }
  return [];
}

/** After the child died: remove the partial folders it left next to the command's outputs (only ours). */
export async function cleanUpAfterChild(argv: readonly string[]): Promise<string[]> {
  const { removeStalePartials } = await import('../core/activations/outputFolders.js');
  return outputTargets(argv).flatMap((target) => removeStalePartials(target));
}

/** One line saying what a stopped command kept. */
export function keptMessage(argv: readonly string[], removed: readonly string[]): string {
  const targets = outputTargets(argv);
  const outputs = targets.length > 0 ? `${targets.map((target) => JSON.stringify(target)).join(' and ')} ${targets.length > 1 ? 'are' : 'is'} as before the run`
    : 'no output was written or changed';
  return `${outputs}${removed.length > 0 ? ` (${removed.length} partial folder(s) removed)` : ''}; ` +
    'activations computed before the stop stay in the activation cache for the next run, unless --no-cache';
}

let parentGone = false;
const originalParent = process.ppid;

/** In the child: watch the parent's pipe; `onGone` runs once when the parent has died. */
export function watchParent(onGone: () => void): void {
  const fd = Number(process.env[PARENT_PIPE_ENV]);
  if (!Number.isInteger(fd) || fd < 3) return;
  let socket: net.Socket;
  try {
    socket = new net.Socket({ fd, readable: true, writable: false });
  } catch {
    return;
  }
  const gone = (): void => {
    if (parentGone) return;
    parentGone = true;
    onGone();
  };
  // End of file: the write end is closed, i.e. the parent is gone. An error on the pipe alone (a platform that
  // cannot watch it) is not taken as the parent's death unless the parent changed.
  socket.on('end', gone);
  socket.on('error', () => { if (process.ppid !== originalParent) gone(); });
  socket.on('close', (hadError: boolean) => { if (!hadError || process.ppid !== originalParent) gone(); });
  socket.resume();
  socket.unref();
}

/** In the child: throws when the supervising parent is gone (checked right before outputs are moved into place). */
export function assertParentAlive(): void {
  if (process.env[PARENT_PIPE_ENV] === undefined) return;
  if (parentGone || process.ppid !== originalParent) {
    parentGone = true;
    const error = new Error('the parent process is gone; nothing was moved into place');
    error.name = 'AbortError';
    throw error;
  }
}

/** Test hook (SPACETIME_PROBE_TEST_BLOCK_MS): block the thread synchronously, as a long fit does. */
export function testBlock(): void {
  const ms = Number(process.env.SPACETIME_PROBE_TEST_BLOCK_MS);
  if (!(ms > 0)) return;
  const until = Date.now() + ms;
  while (Date.now() < until) fs.statSync('.');
}
