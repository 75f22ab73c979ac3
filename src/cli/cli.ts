/** Process entry of the bundled CLI (out/cli.js): registers the commands and runs main(). */
import { main, registerCommand } from './main';
import { allCommands } from './commands';

for (const command of allCommands) registerCommand(command);

// `spacetime-probe … | head` closes the pipe early: stop quietly instead of crashing with EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  interactive: Boolean(process.stderr.isTTY),
}).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => { process.stderr.write(`${String(error)}\n`); process.exitCode = 1; },
);
