// Editor-loop benchmark (issue 19), in the real extension host: edit one row of a dataset file, save it with
// re-run on save, and time until the results panel reports that it drew the new run (the webview's `rendered`
// message, after the next painted frame). A benchmark, not a test: no timing is asserted, and the suite exists only
// with SPACETIME_BENCH_EDITOR_LOOP=1, e.g.
//   SPACETIME_BENCH_EDITOR_LOOP=1 SPACETIME_TEST_GREP='Editor loop' SPACETIME_VSCODE=offline node out/test/integration/runTest.js
// It prints every repeat's phases (extension host, probe worker, webview on one clock: runs/editorLoopTrace.ts) and
// writes them with the medians to test-artifacts/bench/editor-loop.json. Results: BENCHMARKS.md, "Editor loop".
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { completed, extensionApi, runProbe, waitFor, workspaceDir } from './probeTestSupport';
import { repoRoot } from '../../helpers/modelFixtures';
import { formatTrace, traceNow, type TraceMark } from '../../../src/extension/runs/editorLoopTrace';
import type { RenderedRun, ResultsPanel, ResultsTab } from '../../../src/extension/panels/resultsPanel';

const REPEATS = Number(process.env.SPACETIME_BENCH_REPEATS ?? 5);
/** Tabs to measure on, in turn: the map (up to 4,000 entities' points over a base map) and the Layers view. */
const TABS = (process.env.SPACETIME_BENCH_TABS ?? 'map,layers').split(',') as ResultsTab[];
/** Suffixes that make the edited row's name new on every repeat, so exactly one entity goes through the model. */
const SUFFIXES = ['north', 'south', 'east', 'west', 'upper', 'lower', 'old', 'new', 'great', 'little'];

interface Repeat {
  readonly saveToPaintedMs: number;
  readonly saveToHostMs: number;
  readonly marks: readonly TraceMark[];
}

interface CaseResult {
  readonly name: string;
  readonly tab: ResultsTab;
  readonly rows: number;
  readonly model: string;
  readonly repeats: readonly Repeat[];
  readonly medianSaveToPaintedMs: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Every `rendered` report of the panel, with when the host got it; filled from when the panel exists. */
function recordRenders(panel: ResultsPanel): (RenderedRun & { readonly hostAt: number })[] {
  const renders: (RenderedRun & { readonly hostAt: number })[] = [];
  panel.onDidRender((rendered) => renders.push({ ...rendered, hostAt: traceNow() }));
  return renders;
}

async function measureCase(name: string, datasetText: string, model: string, tab: ResultsTab): Promise<CaseResult> {
  const api = await extensionApi();
  const file = path.join(workspaceDir(), `${name}-${tab}.csv`);
  fs.writeFileSync(file, datasetText);
  const rows = datasetText.trimEnd().split('\n').length - 1;
  const first = completed(await runProbe(file, { model, showResults: false }));
  const panel = await vscode.commands.executeCommand<ResultsPanel | undefined>('spacetimeProbe.showResults', first.record.id, { tab });
  assert.ok(panel, 'the results panel opened');
  const renders = recordRenders(panel);
  await waitFor(() => renders.some((r) => r.runId === first.record.id && r.tab === tab), `the first run in the ${tab} tab`, 120_000);
  const document = await vscode.workspace.openTextDocument(file);
  await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
  await vscode.workspace.getConfiguration('spacetimeProbe').update('rerunOnSave', 'onSave', vscode.ConfigurationTarget.Global);
  const repeats: Repeat[] = [];
  try {
    for (let i = 0; i <= REPEATS; i++) {
      const line = 1 + 7 * (i + 1); // a data row (0-based editor line; the header is line 0)
      const text = document.lineAt(line).text;
      const comma = text.indexOf(',');
      assert.ok(comma > 0 && !text.startsWith('"'), `line ${line + 1} starts with a plain name: ${text}`);
      const edit = new vscode.WorkspaceEdit();
      edit.replace(document.uri, new vscode.Range(line, 0, line, comma), `${text.slice(0, comma)} ${SUFFIXES[i % SUFFIXES.length]}`);
      // A person saves a moment after typing: by then the Problems panel has validated the edit (250 ms after it).
      const validated = new Promise<void>((resolve) => {
        const listener = api.diagnostics.onDidValidate((uri) => { if (uri.toString() === document.uri.toString()) { listener.dispose(); resolve(); } });
      });
      assert.ok(await vscode.workspace.applyEdit(edit));
      await Promise.race([validated, new Promise((resolve) => setTimeout(resolve, 5000))]);
      const previous = api.services.store.latestForDataset(file)?.id;
      const saved = traceNow();
      assert.ok(await document.save());
      const result = await waitFor(() => renders.find((r) => r.hostAt > saved && r.runId !== previous && r.tab === tab), `the re-run in the ${tab} tab`, 120_000);
      const hostAt = result.hostAt;
      const painted = result.marks.find((m) => m.phase === 'painted')?.at ?? hostAt;
      const marks = api.services.trace.since(saved);
      if (i === 0) continue; // warm-up: the first edit also warms the dataset worker and JIT
      repeats.push({ saveToPaintedMs: painted - saved, saveToHostMs: hostAt - saved, marks: marks.map((m) => ({ phase: m.phase, at: m.at - saved })) });
      console.log(`[editor loop] ${name} ${tab} repeat ${i}: save -> painted ${(painted - saved).toFixed(0)} ms\n${formatTrace(marks, saved)}`);
    }
  } finally {
    await vscode.workspace.getConfiguration('spacetimeProbe').update('rerunOnSave', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  }
  const result = { name, tab, rows, model, repeats, medianSaveToPaintedMs: median(repeats.map((r) => r.saveToPaintedMs)) };
  console.log(`[editor loop] ${name} ${tab} (${rows} rows, ${model}): median save -> painted ${result.medianSaveToPaintedMs.toFixed(0)} ms ` +
    `(${repeats.map((r) => r.saveToPaintedMs.toFixed(0)).join(', ')})`);
  return result;
}

if (process.env.SPACETIME_BENCH_EDITOR_LOOP === '1') {
  suite('Editor loop benchmark', () => {
    const results: CaseResult[] = [];
    const worldPlaces = fs.readFileSync(path.join(repoRoot, 'data', 'builtin', 'world_places.csv'), 'utf8');

    suiteTeardown(() => {
      const dir = path.join(process.env.SPACETIME_ARTIFACTS_DIR ?? path.join(repoRoot, 'test-artifacts'), 'bench');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'editor-loop.json'), `${JSON.stringify({ date: new Date().toISOString(), loadAverage: os.loadavg(), cpus: os.cpus().length, results }, null, 2)}\n`);
    });

    for (const tab of TABS) {
      test(`GloVe on a copy of the built-in world places, ${tab} tab: save -> updated panel`, async function () {
        this.timeout(600_000);
        results.push(await measureCase('world_places_copy', worldPlaces, 'builtin:glove-100d', tab));
      });

      test(`gpt2-tiny (5 layers) on 3,000 rows of world places, ${tab} tab: save -> updated panel`, async function () {
        this.timeout(600_000);
        const text = `${worldPlaces.split('\n').slice(0, 3001).join('\n')}\n`;
        results.push(await measureCase('world_places_3k', text, path.join(repoRoot, 'test', 'fixtures', 'onnx-models', 'gpt2-tiny'), tab));
      });
    }

  });
}
