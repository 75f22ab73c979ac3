/**
 * The longest stretch a layer's probe fit keeps the event loop from running (timers, signal handlers): what bounds
 * how fast a SIGTERM is honoured in one process (SPACETIME_PROBE_SUPERVISE=0). Runs bench/scale/fitLayer.js in this
 * process with a 20 ms interval watching for late ticks; prints the longest stall during the fit and every stall
 * over 300 ms (start and length, ms since start).
 *
 *   npx tsc -p . && node bench/scale/makeFolder.js --out /tmp/scale4k --rows 12000 --layers 1 --dim 4096
 *   node bench/scale/stalls.mjs --folder /tmp/scale4k --layer 0 --layers-total 1 [--build OTHER/out]
 */
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const at = process.argv.indexOf('--build');
const build = at >= 0 ? path.resolve(process.argv[at + 1]) : path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'out');
const started = Date.now();
let last = started;
let loaded = 0;
const stalls = [];
setInterval(() => {
  const now = Date.now();
  if (now - last > 300) stalls.push([last - started, now - last]);
  last = now;
}, 20).unref();
process.on('exit', () => {
  const duringFit = stalls.filter(([start]) => start >= loaded);
  const worst = duringFit.reduce((max, [, length]) => Math.max(max, length), 0);
  process.stderr.write(`${JSON.stringify({ build, worstStallDuringFitMs: worst, stallsOver300ms: stalls })}\n`);
});
await import(pathToFileURL(path.join(build, 'bench', 'scale', 'fitLayer.js')).href);
loaded = Date.now() - started;
