/**
 * Process control (issue 15, items 17, 18, 19): the CLI's working child dies with its parent (kill -9 of the
 * parent: no results.json appears later), SIGTERM is honoured even while the child's thread is blocked in a long
 * synchronous step (the supervisor ends it and says what was kept), and a child killed by SIGKILL leaves no
 * partial folders. The child is made to block with SPACETIME_PROBE_TEST_BLOCK_MS at the start of the fit.
 * Without the supervisor (SPACETIME_PROBE_SUPERVISE=0) a SIGTERM during a real multi-second fit ends the process
 * within the grace period too: the fit's matrix products are split into short runs with event-loop turns between.
 */
import { describe, test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot, onnxModelDir } from '../../helpers/modelFixtures';
import { writeNpy } from '../../../src/core/activations/npy';
import { ACTIVATIONS_FORMAT, layerFileName, promptsIdentity, writeActivationManifest } from '../../../src/core/activations/manifest';

const cli = path.join(repoRoot, 'out', 'cli.js');
const gpt2 = onnxModelDir('gpt2-tiny');
const skip = (!fs.existsSync(cli) && 'out/cli.js not built') || (process.platform !== 'linux' && 'needs /proc (Linux)');

function childrenOf(pid: number): number[] {
  return fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name)).filter((name) => {
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
    } catch {
      return false;
    }
  }).map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const state = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return state.slice(state.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor(what: string, check: () => boolean, limitMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > limitMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Started { child: ChildProcess; stderr: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }

function startCli(args: string[], env: NodeJS.ProcessEnv): Started {
  const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stderr: () => stderr, exited };
}

function partials(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => name.includes('.partial-')) : [];
}

describe('process control', { skip }, () => {
  let dir: string;
  let dataset: string;
  const env = () => ({ SPACETIME_PROBE_CACHE_DIR: path.join(dir, 'cache') });

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'process-control-'));
    dataset = path.join(dir, 'd.csv');
    fs.writeFileSync(dataset, `name,year\n${Array.from({ length: 40 }, (_, k) => `word${k} x,${1900 + k}`).join('\n')}\n`);
  });

  test('kill -9 of the CLI: its child stops too and never writes results.json (item 17)', async () => {
    const out = path.join(dir, 'killed-parent');
    const run = startCli(['run', '--dataset', dataset, '--model', gpt2, '--out', out], { ...env(), SPACETIME_PROBE_TEST_BLOCK_MS: '3000' });
    await waitFor('the fit to start', () => /fitting/.test(run.stderr()));
    const [worker] = childrenOf(run.child.pid!);
    assert.ok(worker, 'the supervised child exists');
    run.child.kill('SIGKILL');
    await run.exited;
    await waitFor('the orphaned child to exit', () => !alive(worker));
    assert.equal(fs.existsSync(path.join(out, 'results.json')), false);
    assert.deepEqual(partials(out), []);
  });

  test('SIGTERM while the child is blocked: ended within the grace period, previous outputs kept, said so (item 18)', async () => {
    const out = path.join(dir, 'terminated');
    const first = spawnSync(process.execPath, [cli, 'run', '--dataset', dataset, '--model', gpt2, '--out', out], { env: { ...process.env, ...env() }, encoding: 'utf8' });
    assert.equal(first.status, 0, first.stderr);
    const before = fs.readFileSync(path.join(out, 'results.json'), 'utf8');
    const run = startCli(['run', '--dataset', dataset, '--model', gpt2, '--out', out, '--no-cache'], { ...env(), SPACETIME_PROBE_TEST_BLOCK_MS: '600000' });
    await waitFor('the fit to start', () => /fitting/.test(run.stderr()));
    const [worker] = childrenOf(run.child.pid!);
    run.child.kill('SIGTERM');
    const { code } = await run.exited;
    assert.equal(code, 143, run.stderr());
    assert.match(run.stderr(), /stopped on SIGTERM/);
    assert.match(run.stderr(), /is as before the run|are as before the run/);
    assert.equal(alive(worker), false);
    assert.equal(fs.readFileSync(path.join(out, 'results.json'), 'utf8'), before);
    assert.deepEqual(partials(out), []);
  });

  test('the working child killed by SIGKILL: the CLI removes its partial folders and says what was kept (item 19)', async () => {
    const out = path.join(dir, 'killed-child');
    const run = startCli(['run', '--dataset', dataset, '--model', gpt2, '--out', out], { ...env(), SPACETIME_PROBE_TEST_BLOCK_MS: '600000' });
    await waitFor('the fit to start', () => /fitting/.test(run.stderr()));
    assert.ok(partials(out).length > 0, 'the staged activations exist while the child works');
    const [worker] = childrenOf(run.child.pid!);
    process.kill(worker, 'SIGKILL');
    const { code } = await run.exited;
    assert.equal(code, 137, run.stderr());
    assert.match(run.stderr(), /killed by SIGKILL/);
    assert.deepEqual(partials(out), []);
  });

  test('SIGTERM mid-fit with SPACETIME_PROBE_SUPERVISE=0: stopped within seconds, nothing written, said so (item 18)', async () => {
    // A folder whose fit takes seconds per layer: 10,000 rows × 640 features, 3 layers (noise plus a planted signal).
    const acts = path.join(dir, 'big-acts');
    fs.mkdirSync(acts, { recursive: true });
    const [rows, dim, layers] = [10_000, 640, 3];
    let state = 7;
    const noise = (): number => { state = (state * 1103515245 + 12345) % 2147483648; return state / 2147483648 - 0.5; };
    const csv = ['name,latitude,longitude'];
    const targets = Array.from({ length: rows }, (_, r) => [((r * 37) % 160) - 80, ((r * 91) % 340) - 170]);
    targets.forEach(([lat, lon], r) => csv.push(`place ${r},${lat},${lon}`));
    const data = path.join(dir, 'big.csv');
    fs.writeFileSync(data, `${csv.join('\n')}\n`);
    for (let layer = 0; layer < layers; layer++) {
      const values = new Float32Array(rows * dim);
      for (let r = 0; r < rows; r++) for (let j = 0; j < dim; j++) values[r * dim + j] = noise() + (j < 2 ? targets[r][j] / 100 : 0);
      writeNpy(path.join(acts, layerFileName(layer)), values, [rows, dim]);
    }
    const prompts = targets.map((_, r) => ({ row: r + 2, text: `place ${r}` }));
    writeActivationManifest(acts, {
      format: ACTIVATIONS_FORMAT, model: 'synthetic', prompt: '{entity}', token: 'entity-last', dataset: data, numEntities: rows, hiddenSize: dim,
      rows: prompts.map((prompt) => prompt.row), layers: Array.from({ length: layers }, (_, index) => ({ index, file: layerFileName(index) })),
      promptsSha256: promptsIdentity(prompts), producer: { tool: 'processControl.test.ts', engine: 'synthetic' },
    });
    const out = path.join(dir, 'in-process');
    const run = startCli(['probe', '--activations', acts, '--dataset', data, '--out', out, '--bootstrap', '0'], { ...env(), SPACETIME_PROBE_SUPERVISE: '0' });
    await waitFor('the fit to start', () => /fitting layer/.test(run.stderr()));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(childrenOf(run.child.pid!).filter((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('cli.js')), [], 'no supervised child');
    const sent = Date.now();
    run.child.kill('SIGTERM');
    const { code } = await run.exited;
    const elapsed = Date.now() - sent;
    // Generous: the promise is 2 s (1.2 s grace, then the next turn of the event loop), and this machine is shared.
    assert.ok(elapsed < 5000, `stopped ${elapsed} ms after SIGTERM`);
    assert.ok(code === 143 || code === 130, `exit code ${code}\n${run.stderr()}`);
    assert.match(run.stderr(), code === 143 ? /stopped on SIGTERM; no output was written or changed/ : /interrupted; no output was written or changed/);
    assert.equal(fs.existsSync(path.join(out, 'results.json')), false);
  });
});
