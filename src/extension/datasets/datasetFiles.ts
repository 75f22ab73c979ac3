/** Which files are probe datasets, and finding them in the workspace. */
import * as vscode from 'vscode';
import path from 'node:path';
import { parseDatasetText } from '../../core/datasets/parse';
import type { ParseResult } from '../../core/datasets/types';
import { parseCsv } from '../../core/datasets/csv';

export const DATASET_EXTENSIONS = ['.csv', '.jsonl', '.ndjson'];
export const DATASET_GLOB = '**/*.{csv,jsonl,ndjson}';
/** Files the editor features attach to (CSV has no built-in language id, so match by file name). */
export const DATASET_SELECTOR: vscode.DocumentSelector = [
  { scheme: 'file', pattern: DATASET_GLOB },
  { scheme: 'untitled', pattern: DATASET_GLOB },
];

export function hasDatasetExtension(fileName: string): boolean {
  return DATASET_EXTENSIONS.includes(path.extname(fileName).toLowerCase());
}

/** Column names the core parser recognises (src/core/datasets/parse.ts), lower-cased. */
const ENTITY_COLUMNS = ['name', 'entity', 'headline', 'title'];
const TARGET_COLUMNS = ['latitude', 'lat', 'longitude', 'lon', 'lng', 'year', 'date', 'release_date', 'death_date', 'birth_date'];

/** Header column names of CSV text, or the keys of the first JSON object line for JSON Lines. */
export function headerColumns(text: string, fileName: string): string[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (/\.(jsonl|ndjson)$/i.test(fileName)) {
    for (const line of body.split('\n')) {
      if (!line.trim()) continue;
      try {
        const value: unknown = JSON.parse(line);
        return typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.keys(value).map((k) => k.trim().toLowerCase()) : [];
      } catch {
        return [];
      }
    }
    return [];
  }
  const firstLine = body.slice(0, body.search(/\r?\n|$/));
  const { records } = parseCsv(`${firstLine}\n`);
  return (records[0]?.fields ?? []).map((f) => f.value.trim().toLowerCase());
}

/**
 * A CSV/JSONL file counts as a probe dataset when its header names an entity column and at least one target
 * column. Other tables in the workspace (results exports, unrelated CSVs) then get no diagnostics.
 */
export function looksLikeDataset(text: string, fileName: string): boolean {
  const columns = headerColumns(text, fileName);
  return columns.some((c) => ENTITY_COLUMNS.includes(c)) && columns.some((c) => TARGET_COLUMNS.includes(c));
}

/**
 * Whether a file is worth validating: its header has an entity column or a target column. Looser than
 * looksLikeDataset, so that a dataset missing its entity column (`foo,latitude,longitude`) gets its problem in the
 * Problems panel instead of being silently ignored.
 */
export function mightBeDataset(text: string, fileName: string): boolean {
  const columns = headerColumns(text, fileName);
  return columns.some((c) => ENTITY_COLUMNS.includes(c) || TARGET_COLUMNS.includes(c));
}

/** Space (latitude/longitude columns) or time (year/date columns) from a header; undefined when neither. */
export function datasetKindOfHeader(text: string, fileName: string): 'space' | 'time' | undefined {
  const columns = headerColumns(text, fileName);
  if (columns.some((c) => ['latitude', 'lat', 'longitude', 'lon', 'lng'].includes(c))) return 'space';
  if (columns.some((c) => ['year', 'date', 'release_date', 'death_date', 'birth_date'].includes(c))) return 'time';
  return undefined;
}

/** The name problems are reported against: the path for files on disk, the URI otherwise. */
export function datasetFileName(document: vscode.TextDocument): string {
  return document.uri.scheme === 'file' ? document.uri.fsPath : document.uri.toString();
}

export function parseDocument(document: vscode.TextDocument): ParseResult {
  return parseDatasetText(document.getText(), datasetFileName(document));
}

/** Dataset files in the workspace (header check only). */
export async function findWorkspaceDatasets(limit = 200): Promise<vscode.Uri[]> {
  const candidates = await vscode.workspace.findFiles(DATASET_GLOB, '**/{node_modules,.git,out,dist,.vscode-test}/**', limit);
  const found: vscode.Uri[] = [];
  for (const uri of candidates) {
    try {
      const bytes = await vscode.workspace.fs.readFile(uri);
      const head = new TextDecoder('utf-8').decode(bytes.subarray(0, 16 * 1024));
      if (looksLikeDataset(head, uri.fsPath)) found.push(uri);
    } catch {
      // Unreadable file: not offered.
    }
  }
  return found.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
}
