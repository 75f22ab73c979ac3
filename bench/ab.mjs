#!/usr/bin/env node
// Two (or more) command lines run alternately, N rounds (the order flips every round), wall time of each run; prints
// each one's median, mean and best and, for two, the median of the paired differences (A − B). For A/B tests of a
// change on a VM whose speed drifts: build the old code in another checkout and compare within the same minutes.
//
//   node bench/ab.mjs 14 "head=node ../old/out/cli.js probe --activations D/activations --dataset D/dataset.csv --out /tmp/a --json" \
//                        "new=node out/cli.js probe --activations D/activations --dataset D/dataset.csv --out /tmp/b --json"
//
// Each command runs through bash with its output discarded; a failing run stops the comparison.
import { spawnSync } from 'node:child_process';

const rounds = Number(process.argv[2]);
const commands = process.argv.slice(3).map((text) => {
  const at = text.indexOf('=');
  return { label: text.slice(0, at), command: text.slice(at + 1), times: [] };
});
if (!(rounds > 0) || commands.length < 2 || commands.some((entry) => entry.label === '' || entry.command === '')) {
  console.error('usage: node bench/ab.mjs ROUNDS LABEL=COMMAND LABEL=COMMAND [...]');
  process.exit(2);
}
for (let round = 0; round < rounds; round++) {
  for (const entry of round % 2 === 0 ? commands : [...commands].reverse()) {
    const started = performance.now();
    const run = spawnSync('bash', ['-c', `${entry.command} >/dev/null 2>&1`]);
    entry.times.push(performance.now() - started);
    if (run.status !== 0) {
      console.error(`${entry.label} failed (exit ${run.status}): ${entry.command}`);
      process.exit(1);
    }
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
for (const { label, times } of commands) {
  const mean = times.reduce((sum, time) => sum + time, 0) / times.length;
  console.log(`${label.padEnd(16)} median ${median(times).toFixed(0)} ms, mean ${mean.toFixed(0)}, best ${Math.min(...times).toFixed(0)}`);
}
if (commands.length === 2) {
  const [a, b] = commands;
  console.log(`paired difference (${a.label} − ${b.label}), median of ${rounds}: ${median(a.times.map((time, k) => time - b.times[k])).toFixed(0)} ms`);
}
