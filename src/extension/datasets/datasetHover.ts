/** Hover on a dataset line: the latest run's prediction for that entity, the truth, the error, split and layer. */
import * as vscode from 'vscode';
import { errorUnit, predictionError } from '../../../webview/src/geo';
import type { PredictionLookup } from './predictionLookup';

function formatPosition(kind: 'space' | 'time', values: readonly number[]): string {
  if (kind === 'time') return values[0].toFixed(0);
  const [lat, lon] = values;
  return `${Math.abs(lat).toFixed(3)}\u00b0${lat >= 0 ? 'N' : 'S'}, ${Math.abs(lon).toFixed(3)}\u00b0${lon >= 0 ? 'E' : 'W'}`;
}

export class DatasetHoverProvider implements vscode.HoverProvider {
  constructor(private readonly lookup: PredictionLookup) {}

  async provideHover(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    if (document.uri.scheme !== 'file' || position.line === 0) return undefined;
    const line = document.lineAt(position.line);
    const found = await this.lookup.forLine(document.uri.fsPath, position.line + 1, line.text).catch(() => undefined);
    if (!found) return undefined;
    const { record, results, prediction } = found;
    const error = predictionError(results.kind, prediction.true, prediction.predicted);
    const markdown = new vscode.MarkdownString(undefined, true);
    markdown.isTrusted = false; // entity names are data: no command links, no HTML
    markdown.supportHtml = false;
    markdown.appendMarkdown('**');
    markdown.appendText(prediction.name);
    markdown.appendMarkdown('** \u2014 Spacetime Probe\n\n');
    markdown.appendMarkdown('| | |\n|---|---|\n');
    const row = (label: string, value: string): void => {
      markdown.appendMarkdown(`| ${label} | `);
      markdown.appendText(value.replace(/\|/g, '/'));
      markdown.appendMarkdown(' |\n');
    };
    row('Predicted', formatPosition(results.kind, prediction.predicted));
    row('True', formatPosition(results.kind, prediction.true));
    row('Error', `${error.toFixed(results.kind === 'space' ? 0 : 1)} ${errorUnit(results.kind)}`);
    row('Split', prediction.split);
    row('Layer', `${results.bestLayer} (best of ${results.layers.length})`);
    row('Run', `${record.model} \u00b7 ${new Date(record.createdAt).toLocaleString()}`);
    return new vscode.Hover(markdown, line.range);
  }
}
