/**
 * "Export Results": predictions or layer metrics as CSV, results.json as JSON, or the chart on screen in the
 * results panel as PNG/SVG. Files are written to a temp name and renamed, so a failed export leaves nothing.
 */
import * as vscode from 'vscode';
import path from 'node:path';
import type { Command } from './command';
import type { Services } from '../services';
import { EXPORT_FORMATS, type ExportFormat } from '../../../webview/src/protocol';
import { exportBaseName, layerMetricsCsv, predictionsCsv } from '../runs/exportCsv';
import { ResultsPanel } from '../panels/resultsPanel';
import { pickRuns } from '../pickers';
import { writeFileAtomic } from '../../core/util/atomicWrite';

export interface ExportOptions {
  /** Skip the save dialog (tests, scripted use). */
  readonly target?: string;
  /** For CSV: which table (asked when absent). */
  readonly table?: 'predictions' | 'layers';
}


export async function exportRun(services: Services, runId: string, format: ExportFormat, options: ExportOptions = {}): Promise<string | undefined> {
  const record = services.store.get(runId);
  if (!record) throw new Error(`run ${runId} is not in the history`);
  const results = await services.store.results(runId);
  let table = options.table;
  if (format === 'csv' && !table) {
    const picked = await vscode.window.showQuickPick([
      { label: 'Predictions', description: 'one row per entity at the best layer, with errors', value: 'predictions' as const },
      { label: 'Layer metrics', description: 'R², Pearson, Spearman and proximity error per layer', value: 'layers' as const },
    ], { title: 'Export CSV' });
    table = picked?.value;
    if (!table) return undefined;
  }
  const base = exportBaseName(record, format === 'csv' ? table : format === 'json' ? 'results' : ResultsPanel.current?.shownRunId === runId ? 'chart' : undefined);
  let target = options.target;
  if (!target) {
    const defaultFolder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(path.dirname(record.datasetPath));
    const uri = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.joinPath(defaultFolder, `${base}.${format}`),
      filters: { [format.toUpperCase()]: [format] },
      title: `Export ${format.toUpperCase()}`,
    });
    target = uri?.fsPath;
    if (!target) return undefined;
  }
  let data: string | Uint8Array;
  if (format === 'csv') data = table === 'layers' ? layerMetricsCsv(results) : predictionsCsv(results);
  else if (format === 'json') data = `${JSON.stringify(results, null, 2)}\n`;
  else {
    const panel = ResultsPanel.current?.shownRunId === runId ? ResultsPanel.current : services.showResults(runId);
    const image = await waitUntilReady(panel).then(() => panel.requestChartImage(format));
    data = format === 'svg' ? image : Buffer.from(image.slice(image.indexOf(',') + 1), 'base64');
  }
  await writeFileAtomic(target, data);
  services.log.info(`Exported run ${runId} as ${format.toUpperCase()} to ${target}.`);
  if (!options.target) void vscode.window.showInformationMessage(`Spacetime Probe: exported ${path.basename(target)}.`);
  return target;
}

async function waitUntilReady(panel: ResultsPanel): Promise<void> {
  for (let waited = 0; !panel.isReady || panel.shownRunId === undefined; waited += 100) {
    if (waited > 20_000) throw new Error('the results panel did not load');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Give the webview a moment to draw the run it was just sent.
  await new Promise((resolve) => setTimeout(resolve, 500));
}

export class ExportResultsCommand implements Command {
  readonly id = 'spacetimeProbe.exportResults';
  constructor(private readonly services: Services) {}

  async execute(runIdArgument?: unknown, formatArgument?: unknown, optionsArgument?: unknown): Promise<string | undefined> {
    const { store } = this.services;
    let runId = typeof runIdArgument === 'string' && store.get(runIdArgument) ? runIdArgument : ResultsPanel.current?.shownRunId;
    if (!runId) runId = (await pickRuns(store, { canPickMany: false, title: 'Export results of run' }))?.id;
    if (!runId) return undefined;
    let format = typeof formatArgument === 'string' && (EXPORT_FORMATS as readonly string[]).includes(formatArgument) ? (formatArgument as ExportFormat) : undefined;
    if (!format) {
      format = (await vscode.window.showQuickPick([
        { label: 'CSV', description: 'predictions or layer metrics', format: 'csv' as const },
        { label: 'JSON', description: 'results.json', format: 'json' as const },
        { label: 'PNG', description: 'chart on screen in the results panel', format: 'png' as const },
        { label: 'SVG', description: 'chart on screen in the results panel', format: 'svg' as const },
      ], { title: 'Export results as' }))?.format;
    }
    if (!format) return undefined;
    const options = typeof optionsArgument === 'object' && optionsArgument !== null ? (optionsArgument as ExportOptions) : {};
    return exportRun(this.services, runId, format, options);
  }
}
