/**
 * The results panel: one webview that shows a run (layer chart, map or time views, predictions table), restores
 * itself after a restart (WebviewPanelSerializer + the webview's setState), and owns its listeners.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { Disposable } from '../util/disposable';
import type { RunStore } from '../runs/runStore';
import { runSummary } from '../runs/runStore';
import {
  parseWebviewToHost, SKIPPED_SENT, type ComparedRun, type ExportFormat, type HostToWebview, type RunView, type WebviewToHost, type WebviewUiState,
} from '../../../webview/src/protocol';

export type ResultsTab = WebviewUiState['tab'];
import { createNonce, resultsHtml } from './resultsHtml';
import { diffPredictions, packPredictions, type PackedPredictions } from '../../../webview/src/packedPredictions';
import { readRunExperiments } from '../runs/experimentFiles';
import type { EditorLoopTrace } from '../runs/editorLoopTrace';

export interface ResultsPanelDependencies {
  readonly extensionUri: vscode.Uri;
  readonly store: RunStore;
  readonly log: vscode.LogOutputChannel;
  /** Handles the panel's Export buttons (CSV/JSON/PNG/SVG) for the run on screen. */
  readonly exportRun: (runId: string, format: ExportFormat) => Promise<void>;
  /** Fires status lines while a run is in progress (null when it ends). */
  readonly onDidChangeRunStatus: vscode.Event<string | null>;
  /** Where showing a run is timed, with the webview's own marks (the editor-loop benchmark reads it). */
  readonly trace?: EditorLoopTrace;
}

/** The webview finished drawing a run's tab. */
export type RenderedRun = Extract<WebviewToHost, { type: 'rendered' }>;

const CHART_IMAGE_TIMEOUT_MS = 30_000;

export class ResultsPanel extends Disposable {
  static readonly viewType = 'spacetimeProbe.results';
  private static currentPanel: ResultsPanel | undefined;

  private runId: string | undefined;
  private compareIds: readonly string[] = [];
  /** Tab to switch to with the next `show` (then forgotten, so the user's choice sticks). */
  private requestedTab: ResultsTab | undefined;
  private webviewReady = false;
  /** The best-layer predictions the webview holds (from the last delivered `show`): a re-run sends changes to them. */
  private heldPredictions: { readonly runId: string; readonly packed: PackedPredictions } | undefined;
  private nextRequestId = 1;
  private readonly pendingImages = new Map<number, { resolve: (data: string) => void; reject: (error: Error) => void }>();
  private readonly onDidReceiveMessageEmitter = this._register(new vscode.EventEmitter<WebviewToHost>());
  /** Every validated message from the webview (tests observe the handshake and reveal requests through it). */
  readonly onDidReceiveMessage = this.onDidReceiveMessageEmitter.event;
  private readonly onDidShowEmitter = this._register(new vscode.EventEmitter<string>());
  /** Fires with the run id after a `show` message was posted to a ready webview. */
  readonly onDidShow = this.onDidShowEmitter.event;
  private readonly onDidRenderEmitter = this._register(new vscode.EventEmitter<RenderedRun>());
  /** Fires when the webview reports that the tab on screen finished drawing a run. */
  readonly onDidRender = this.onDidRenderEmitter.event;

  static get current(): ResultsPanel | undefined {
    return ResultsPanel.currentPanel;
  }

  /** Shows `runId` (and optionally runs to compare) in the panel, creating or revealing it. */
  static show(dependencies: ResultsPanelDependencies, runId: string, compareIds: readonly string[] = [], tab?: ResultsTab): ResultsPanel {
    let panel = ResultsPanel.currentPanel;
    if (panel) {
      panel.panel.reveal(undefined, true);
    } else {
      // Beside the dataset being edited; in the active group when no editor is open (the panel then gets the room).
      const viewColumn = vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
      const webviewPanel = vscode.window.createWebviewPanel(ResultsPanel.viewType, 'Spacetime Probe Results',
        { viewColumn, preserveFocus: true }, ResultsPanel.webviewOptions(dependencies.extensionUri));
      panel = new ResultsPanel(webviewPanel, dependencies);
    }
    void panel.showRun(runId, compareIds, tab);
    return panel;
  }

  /** Called by the serializer when VS Code restores the panel after a restart. */
  static revive(webviewPanel: vscode.WebviewPanel, dependencies: ResultsPanelDependencies, runId: string | undefined): ResultsPanel {
    ResultsPanel.currentPanel?.dispose();
    const panel = new ResultsPanel(webviewPanel, dependencies);
    const latest = dependencies.store.list()[0];
    const id = runId && dependencies.store.get(runId) ? runId : latest?.id;
    if (id) void panel.showRun(id);
    else void panel.post({ type: 'running', message: 'No probe runs yet. Run "Spacetime Probe: Run Probe\u2026" to create one.' });
    return panel;
  }

  static webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      // Only the bundle, its base maps and our stylesheet can be loaded; nothing from the workspace.
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'out', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
      enableFindWidget: true,
    };
  }

  private constructor(private readonly panel: vscode.WebviewPanel, private readonly dependencies: ResultsPanelDependencies) {
    super();
    ResultsPanel.currentPanel = this;
    this.panel.iconPath = vscode.Uri.joinPath(dependencies.extensionUri, 'media', 'icon.svg');
    this.panel.webview.options = ResultsPanel.webviewOptions(dependencies.extensionUri);
    this.panel.webview.html = this.html();
    this._register(this.panel.onDidDispose(() => this.dispose()));
    // A hidden webview loses its page (no retainContextWhenHidden): the next one holds no predictions.
    this._register(this.panel.onDidChangeViewState(() => { if (!this.panel.visible) this.heldPredictions = undefined; }));
    this._register(this.panel.webview.onDidReceiveMessage((message: unknown) => this.receive(message)));
    this._register(dependencies.onDidChangeRunStatus((message) => void this.post({ type: 'running', message })));
    this._register(dependencies.store.onDidChange(() => {
      // The run on screen was deleted (pruned or removed): fall back to the newest one.
      if (this.runId && !dependencies.store.get(this.runId)) {
        const latest = dependencies.store.list()[0];
        if (latest) void this.showRun(latest.id);
      }
    }));
  }

  /** Brings the panel to the front without changing what it shows. */
  reveal(): void {
    this.panel.reveal(undefined, true);
  }

  get shownRunId(): string | undefined {
    return this.runId;
  }

  get isReady(): boolean {
    return this.webviewReady;
  }

  override dispose(): void {
    if (ResultsPanel.currentPanel === this) ResultsPanel.currentPanel = undefined;
    for (const pending of this.pendingImages.values()) pending.reject(new Error('The results panel was closed.'));
    this.pendingImages.clear();
    super.dispose();
    this.panel.dispose();
  }

  private html(): string {
    const webview = this.panel.webview;
    const asUri = (...segments: string[]): string => webview.asWebviewUri(vscode.Uri.joinPath(this.dependencies.extensionUri, ...segments)).toString();
    return resultsHtml({
      cspSource: webview.cspSource,
      nonce: createNonce(),
      scriptUri: asUri('out', 'webview', 'main.js'),
      styleUri: asUri('media', 'results.css'),
      geoBaseUri: asUri('out', 'webview', 'geo'),
    });
  }

  private post(message: HostToWebview): Thenable<boolean> {
    return this.panel.webview.postMessage(message);
  }

  async showRun(runId: string, compareIds: readonly string[] = [], tab?: ResultsTab): Promise<void> {
    this.runId = runId;
    this.requestedTab = tab;
    this.compareIds = compareIds.filter((id) => id !== runId);
    const record = this.dependencies.store.get(runId);
    this.panel.title = record ? `Results: ${record.dataset} \u00b7 ${record.model}` : 'Spacetime Probe Results';
    if (this.webviewReady) await this.sendRun();
  }

  private async sendRun(): Promise<void> {
    const runId = this.runId;
    if (!runId) return;
    const { store, trace } = this.dependencies;
    trace?.mark('panel: show');
    const record = store.get(runId);
    if (!record) {
      await this.post({ type: 'running', message: `Run ${runId} is no longer in the history.` });
      return;
    }
    try {
      const results = await store.results(runId);
      const packed = packPredictions(results.predictions);
      const held = this.heldPredictions;
      const delta = held ? diffPredictions(held.runId, held.packed, packed) : undefined;
      const { experiments, problems } = await readRunExperiments(path.join(store.root, runId));
      for (const problem of problems) this.dependencies.log.warn(`Experiment file skipped: ${problem}`);
      const view: RunView = {
        summary: runSummary(record),
        // The predictions travel in columns (typed arrays beside the JSON): a fraction of the objects' size; after
        // a re-run, as changes to those the webview holds (every predicted value, and the edited rows' entries).
        results: { ...results, predictions: [], ...(results.skipped ? { skipped: results.skipped.slice(0, SKIPPED_SENT) } : {}) },
        ...(delta ? { predictionsDelta: delta } : { packedPredictions: packed }),
        ...(results.skipped && results.skipped.length > SKIPPED_SENT ? { skippedCount: results.skipped.length } : {}),
        layersWithPredictions: await store.layersWithPredictions(runId, results),
        canRevealRows: true,
        ...(experiments.length > 0 ? { experiments } : {}),
      };
      const compare: ComparedRun[] = [];
      for (const id of this.compareIds) {
        const other = store.get(id);
        if (other) compare.push({ summary: runSummary(other), layers: (await store.results(id)).layers });
      }
      if (runId !== this.runId) return; // another run was requested meanwhile
      const tab = this.requestedTab;
      this.requestedTab = undefined;
      trace?.mark(delta ? 'panel: predictions as a delta' : 'panel: predictions whole');
      trace?.mark('panel: post show');
      this.heldPredictions = undefined; // until delivered
      const delivered = await this.post({ type: 'show', run: view, ...(compare.length ? { compare } : {}), ...(tab ? { tab } : {}) });
      if (delivered) this.heldPredictions = { runId, packed };
      trace?.mark('panel: show delivered');
      this.onDidShowEmitter.fire(runId);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.dependencies.log.error(`Could not show run ${runId}: ${message}`);
      await this.post({ type: 'running', message: `Could not load run ${runId}: ${message}` });
    }
  }

  /** Asks the webview for the chart on screen as SVG text or a PNG data URL. */
  requestChartImage(format: 'png' | 'svg'): Promise<string> {
    if (!this.webviewReady) return Promise.reject(new Error('The results panel is still loading.'));
    const requestId = this.nextRequestId++;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingImages.delete(requestId);
        reject(new Error('The results panel did not answer in time (is it visible?).'));
      }, CHART_IMAGE_TIMEOUT_MS);
      this.pendingImages.set(requestId, {
        resolve: (data) => { clearTimeout(timer); resolve(data); },
        reject: (error) => { clearTimeout(timer); reject(error); },
      });
      void this.post({ type: 'exportChart', requestId, format });
    });
  }

  private receive(raw: unknown): void {
    const message = parseWebviewToHost(raw);
    if (!message) {
      this.dependencies.log.warn(`Results panel: ignored a malformed message ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    this.onDidReceiveMessageEmitter.fire(message);
    switch (message.type) {
      case 'ready':
        // A new page (first load, restored, or one that could not apply a delta) holds no predictions yet.
        this.heldPredictions = undefined;
        this.webviewReady = true;
        void this.sendRun();
        return;
      case 'revealEntity':
        void this.revealEntity(message.row);
        return;
      case 'requestLayerPredictions':
        void this.sendLayerPredictions(message.requestId, message.layer);
        return;
      case 'export':
        if (this.runId) {
          void this.dependencies.exportRun(this.runId, message.format).catch((error: unknown) => {
            void vscode.window.showErrorMessage(`Spacetime Probe: export failed: ${error instanceof Error ? error.message : String(error)}`);
          });
        }
        return;
      case 'chartImage': {
        const pending = this.pendingImages.get(message.requestId);
        this.pendingImages.delete(message.requestId);
        if (!pending) return;
        if (message.data !== null) pending.resolve(message.data);
        else pending.reject(new Error(message.error ?? 'The chart could not be rendered.'));
        return;
      }
      case 'rendered':
        this.dependencies.trace?.add('webview', message.marks);
        this.dependencies.trace?.mark('panel: rendered received');
        this.onDidRenderEmitter.fire(message);
        return;
      case 'log':
        if (message.level === 'error') this.dependencies.log.error(`Results panel: ${message.message}`);
        else this.dependencies.log.info(`Results panel: ${message.message}`);
        return;
      default: {
        const unreachable: never = message;
        return unreachable;
      }
    }
  }

  private async sendLayerPredictions(requestId: number, layer: number): Promise<void> {
    const runId = this.runId;
    if (!runId) return;
    try {
      const predictions = await this.dependencies.store.layerPredictions(runId, layer);
      await this.post({ type: 'layerPredictions', requestId, layer, predictions });
    } catch (error) {
      await this.post({ type: 'layerPredictions', requestId, layer, predictions: null, error: error instanceof Error ? error.message : String(error) });
    }
  }

  /** Opens the dataset file of the run on screen at the entity's line (1-based `row`). */
  async revealEntity(row: number): Promise<vscode.TextEditor | undefined> {
    const record = this.runId ? this.dependencies.store.get(this.runId) : undefined;
    if (!record) return undefined;
    try {
      const document = await vscode.workspace.openTextDocument(vscode.Uri.file(record.datasetPath));
      const line = Math.min(Math.max(0, row - 1), Math.max(0, document.lineCount - 1));
      const range = document.lineAt(line).range;
      const column = this.panel.viewColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Beside : vscode.ViewColumn.One;
      const editor = await vscode.window.showTextDocument(document, { viewColumn: column, selection: range, preserveFocus: false });
      // A built-in dataset is the installed extension's own file: shown read-only (Open Built-in Dataset makes an
      // editable copy).
      if (record.datasetReference.startsWith('builtin:')) {
        await vscode.commands.executeCommand('workbench.action.files.setActiveEditorReadonlyInSession').then(undefined, () => undefined);
      }
      editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      return editor;
    } catch (error) {
      void vscode.window.showErrorMessage(`Spacetime Probe: cannot open ${record.datasetPath}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  }
}

/** Restores the panel after a window reload/restart with the run it showed (the webview state holds its id). */
export function registerResultsPanelSerializer(dependencies: ResultsPanelDependencies): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(ResultsPanel.viewType, {
    async deserializeWebviewPanel(webviewPanel: vscode.WebviewPanel, state: unknown) {
      const runId = typeof state === 'object' && state !== null && typeof (state as { runId?: unknown }).runId === 'string'
        ? (state as { runId: string }).runId
        : undefined;
      ResultsPanel.revive(webviewPanel, dependencies, runId);
    },
  });
}
