/**
 * Process entry of the bundled CLI (out/cli.js): relaunches heavy commands with huge pages when that helps
 * (hugePages.ts), otherwise registers the commands and runs main(). The commands are imported lazily so that a
 * relaunching parent does not load the whole bundle only to wait for its child.
 */
import { currentHugePageHost, hugePageRelaunchEnv, relaunch } from './hugePages';
import { escapeControlChars } from '../core/util/controlChars';

// `spacetime-probe … | head` closes the pipe early: stop quietly instead of crashing with EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

async function start(): Promise<number> {
  const relaunchEnv = hugePageRelaunchEnv(process.argv[2], process.env, currentHugePageHost());
  if (relaunchEnv !== undefined) return relaunch(relaunchEnv);
  const [{ main, registerCommand }, { allCommands }] = await Promise.all([import('./main.js'), import('./commands/index.js')]);
  for (const command of allCommands) registerCommand(command);
  return main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    interactive: Boolean(process.stderr.isTTY),
  });
}

start().then(
  (code) => { process.exitCode = code; },
  (error: unknown) => { process.stderr.write(`${escapeControlChars(String(error))}\n`); process.exitCode = 1; },
);
