/**
 * Process entry of the bundled CLI (out/cli.js): relaunches heavy commands with huge pages when that helps
 * (hugePages.ts), otherwise registers the commands and runs main(). The commands are imported lazily so that a
 * relaunching parent does not load the whole bundle only to wait for its child.
 */
import { childEnv, currentHugePageHost, HUGE_PAGE_COMMANDS, hugePageRelaunchEnv, MARKER, relaunch } from './hugePages';
import { keptMessage, STOP_GRACE_MS, watchParent } from './supervise';
import { escapeControlChars } from '../core/util/controlChars';

// `spacetime-probe … | head` closes the pipe early: stop quietly instead of crashing with EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

/** Arguments longer than this are refused before anything starts (a ~50 kB argument crashes onnxruntime-node's start). */
const MAX_ARGUMENT_CHARS = 16 * 1024;

async function start(): Promise<number> {
  const command = process.argv[2];
  const long = process.argv.slice(2).find((argument) => argument.length > MAX_ARGUMENT_CHARS);
  if (long !== undefined) {
    process.stderr.write(`spacetime-probe: an argument of ${long.length} characters is too long (at most ${MAX_ARGUMENT_CHARS}); ` +
      'put a long prompt template in a file and pass --prompt-file FILE\n');
    return 2;
  }
  if (command !== undefined && HUGE_PAGE_COMMANDS.has(command) && process.env[MARKER] === undefined && process.env.SPACETIME_PROBE_SUPERVISE !== '0') {
    // Heavy commands always run in a supervised child (supervise.ts), with huge pages where they help.
    return relaunch(childEnv(command, hugePageRelaunchEnv(command, process.env, currentHugePageHost) ?? { ...process.env, [MARKER]: '1' }));
  }
  if (command !== undefined && HUGE_PAGE_COMMANDS.has(command)) installStopHandlers();
  const [{ main, registerCommand }, { allCommands }] = await Promise.all([import('./main.js'), import('./commands/index.js')]);
  for (const command of allCommands) registerCommand(command);
  return main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    interactive: Boolean(process.stderr.isTTY),
  });
}

/**
 * A stop request (SIGTERM, SIGHUP, or the supervising parent dying) first lets the command stop cleanly (its own
 * handlers abort the run); if the command has not ended shortly before the supervisor's deadline, the partial
 * folders being built are removed, what was kept is said, and the process exits. Without a supervisor
 * (SPACETIME_PROBE_SUPERVISE=0) this is the whole stop: it needs the thread to come back to the event loop, which
 * a fit does between matrix products (split so that none runs for long: runtime/linalg.ts gemmInPieces).
 */
function installStopHandlers(): void {
  let stopping = false;
  const hardStop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      void import('../core/activations/outputFolders.js').then(({ removeActivePartials }) => {
        const removed = removeActivePartials();
        process.stderr.write(`spacetime-probe: stopped on ${signal}; ${keptMessage(process.argv.slice(2), removed)}\n`);
        process.exit(128 + (signal === 'SIGHUP' ? 1 : 15));
      });
    }, STOP_GRACE_MS * 0.8).unref();
  };
  process.on('SIGTERM', () => hardStop('SIGTERM'));
  process.on('SIGHUP', () => hardStop('SIGHUP'));
  watchParent(() => {
    process.stderr.write('spacetime-probe: the parent process is gone; stopping\n');
    process.emit('SIGTERM', 'SIGTERM');
  });
}

start().then(
  (code) => { process.exitCode = code; },
  (error: unknown) => { process.stderr.write(`${escapeControlChars(String(error))}\n`); process.exitCode = 1; },
);
