/**
 * Shared helpers for the extension-feature integration tests: the extension's API, a scratch dataset in the
 * opened folder, and polling. (Not a test file: suite/index.ts loads only *.test.js.)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SpacetimeProbeApi } from '../../../src/extension/extension';
import type { ProbeOutcome } from '../../../src/extension/runs/probeRunner';

export const EXTENSION_ID = 'spacetime-probe.spacetime-probe';
export const INJECTION_NAME = '<img src=x onerror=alert(1)>';

export async function extensionApi(): Promise<SpacetimeProbeApi> {
  const extension = vscode.extensions.getExtension<SpacetimeProbeApi>(EXTENSION_ID);
  if (!extension) throw new Error(`${EXTENSION_ID} is not loaded`);
  return extension.activate();
}

export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The opened folder (a throwaway copy), or a temp folder when none is open. */
export function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.env.SPACETIME_TEST_WORKSPACE;
  if (folder) return folder;
  return fs.mkdtempSync(path.join(os.tmpdir(), 'spacetime-ws-'));
}

/** World capitals (GloVe knows their names) plus one script-injection row; is_test marks every 4th row. */
export const CAPITALS: readonly (readonly [string, number, number])[] = [
  ['Paris', 48.8566, 2.3522], ['London', 51.5072, -0.1276], ['Berlin', 52.52, 13.405], ['Madrid', 40.4168, -3.7038],
  ['Rome', 41.9028, 12.4964], ['Vienna', 48.2082, 16.3738], ['Warsaw', 52.2297, 21.0122], ['Moscow', 55.7558, 37.6173],
  ['Cairo', 30.0444, 31.2357], ['Nairobi', -1.2921, 36.8219], ['Lagos', 6.5244, 3.3792], ['Johannesburg', -26.2041, 28.0473],
  ['Tokyo', 35.6762, 139.6503], ['Beijing', 39.9042, 116.4074], ['Seoul', 37.5665, 126.978], ['Delhi', 28.7041, 77.1025],
  ['Bangkok', 13.7563, 100.5018], ['Jakarta', -6.2088, 106.8456], ['Sydney', -33.8688, 151.2093], ['Melbourne', -37.8136, 144.9631],
  ['Auckland', -36.8485, 174.7633], ['Toronto', 43.6532, -79.3832], ['Chicago', 41.8781, -87.6298], ['Houston', 29.7604, -95.3698],
  ['Mexico', 19.4326, -99.1332], ['Lima', -12.0464, -77.0428], ['Santiago', -33.4489, -70.6693], ['Bogota', 4.711, -74.0721],
  ['Caracas', 10.4806, -66.9036], ['Havana', 23.1136, -82.3666], ['Dublin', 53.3498, -6.2603], ['Oslo', 59.9139, 10.7522],
  ['Stockholm', 59.3293, 18.0686], ['Helsinki', 60.1699, 24.9384], ['Athens', 37.9838, 23.7275], ['Istanbul', 41.0082, 28.9784],
  ['Tehran', 35.6892, 51.389], ['Baghdad', 33.3152, 44.3661], ['Riyadh', 24.7136, 46.6753], ['Karachi', 24.8607, 67.0011],
  ['Dhaka', 23.8103, 90.4125], ['Manila', 14.5995, 120.9842], ['Hanoi', 21.0278, 105.8342], ['Singapore', 1.3521, 103.8198],
  ['Lisbon', 38.7223, -9.1393], ['Prague', 50.0755, 14.4378], ['Budapest', 47.4979, 19.0402], ['Kiev', 50.4501, 30.5234],
];

export function capitalsCsv(extraRows: readonly string[] = [INJECTION_NAME]): string {
  const lines = ['name,latitude,longitude,is_test'];
  CAPITALS.forEach(([name, lat, lon], i) => lines.push(`${name},${lat},${lon},${i % 4 === 3 ? 'true' : 'false'}`));
  for (const name of extraRows) lines.push(`"${name.replace(/"/g, '""')}",45.0,5.0,true`);
  return `${lines.join('\n')}\n`;
}

/** Writes a dataset file into the opened folder and returns its path. */
export function writeDataset(name: string, text: string): string {
  const file = path.join(workspaceDir(), name);
  fs.writeFileSync(file, text);
  return file;
}

export async function runProbe(dataset: string, extra: { model?: string; prompt?: string; showResults?: boolean } = {}): Promise<ProbeOutcome> {
  const outcome = await vscode.commands.executeCommand<ProbeOutcome | undefined>('spacetimeProbe.runProbe', { dataset, ...extra });
  if (!outcome) throw new Error('spacetimeProbe.runProbe returned nothing');
  return outcome;
}

export function completed(outcome: ProbeOutcome): Extract<ProbeOutcome, { status: 'completed' }> {
  if (outcome.status !== 'completed') throw new Error(`run did not complete: ${JSON.stringify(outcome)}`);
  return outcome;
}

/** Waits until the results panel has sent the given run to a ready webview. */
export async function waitForPanelShowing(api: SpacetimeProbeApi, runId: string): Promise<void> {
  await waitFor(() => {
    const panel = api.resultsPanel();
    return panel && panel.isReady && panel.shownRunId === runId ? true : undefined;
  }, `the results panel to show run ${runId}`, 30_000);
}
