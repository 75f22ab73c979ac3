#!/usr/bin/env node
// Medians of the editor-loop benchmark's phases (test/integration/suite/editorLoop.bench.test.ts writes
// test-artifacts/bench/editor-loop.json): one table per case and tab, one column per file given, so runs of two
// builds taken in turn sit side by side.
//   node bench/editorLoop/summarize.mjs [--label A --label B] A/editor-loop.json B/editor-loop.json …
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const labels = [];
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--label') labels.push(args[++i]);
  else files.push(args[i]);
}
if (files.length === 0) {
  console.error('usage: summarize.mjs [--label NAME]… editor-loop.json…');
  process.exit(2);
}

/** [label, from mark, to mark]; `TAB` is the case's tab. A phase missing from a repeat (e.g. no validation) is skipped. */
const PHASES = [
  ['save (VS Code writes the file)', 'save', 'save: event'],
  ['validate dataset (save handler)', 'save: event', 'save: validated'],
  ['host → worker', 'save: validated', 'worker:request received'],
  ['worker: parse dataset', 'worker:dataset', 'worker:model'],
  ['worker: prompts + cache lookup', 'worker:model', 'worker:extract'],
  ['worker: activations (cache, .npy)', 'worker:extract', 'worker:fit'],
  ['worker: fit probes', 'worker:fit', 'worker:write'],
  ['worker: results.json + cache close', 'worker:write', 'worker:results written'],
  ['worker → host (results)', 'worker:results written', 'worker:results received'],
  ['host: parse results', 'worker:results received', 'worker:results parsed'],
  ['host: commit run', 'run: engine done', 'run: committed'],
  ['host: prepare show message', 'run: committed', 'panel: post show'],
  ['host → webview (show message)', 'panel: post show', 'webview:show received'],
  ['webview: unpack + tabs', 'webview:show received', 'webview:TAB: start'],
  ['webview: draw tab (Vega)', 'webview:TAB: start', 'webview:TAB: drawn'],
  ['webview: paint', 'webview:TAB: drawn', 'webview:painted'],
];

function median(values) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function phaseMedians(result) {
  const at = (repeat, phase) => (phase === 'save' ? 0 : repeat.marks.find((m) => m.phase === phase.replace('TAB', result.tab))?.at);
  return PHASES.map(([label, from, to]) => {
    const durations = result.repeats.map((r) => [at(r, from), at(r, to)]).filter(([a, b]) => a !== undefined && b !== undefined).map(([a, b]) => b - a);
    return [label, median(durations)];
  });
}

const runs = files.map((file) => JSON.parse(readFileSync(file, 'utf8')));
const names = files.map((file, i) => labels[i] ?? file);
const cases = [...new Set(runs.flatMap((run) => run.results.map((r) => `${r.name} · ${r.tab ?? 'map'}`)))];
const fmt = (ms) => (Number.isFinite(ms) ? ms.toFixed(0) : '–');
for (const key of cases) {
  console.log(`\n${key}`);
  console.log(`| phase (median of repeats, ms) | ${names.join(' | ')} |`);
  console.log(`|---|${names.map(() => '---:').join('|')}|`);
  const perRun = runs.map((run) => run.results.find((r) => `${r.name} · ${r.tab ?? 'map'}` === key));
  const tables = perRun.map((result) => (result ? phaseMedians({ ...result, tab: result.tab ?? 'map' }) : undefined));
  for (let p = 0; p < PHASES.length; p++) console.log(`| ${PHASES[p][0]} | ${tables.map((t) => (t ? fmt(t[p][1]) : '')).join(' | ')} |`);
  console.log(`| **save → painted** (median; repeats) | ${perRun.map((r) => (r ? `**${fmt(r.medianSaveToPaintedMs)}** (${r.repeats.map((x) => fmt(x.saveToPaintedMs)).join(', ')})` : '')).join(' | ')} |`);
  console.log(`| load average at the end (1/5/15 min) | ${runs.map((run) => run.loadAverage.map((l) => l.toFixed(1)).join(' / ')).join(' | ')} |`);
}
