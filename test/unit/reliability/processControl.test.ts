/**
 * Process control (issue 15, items 17, 18, 19): the CLI's working child dies with its parent (kill -9 of the
 * parent: no results.json appears later), SIGTERM is honoured even while the child's thread is blocked in a long
 * synchronous step (the supervisor ends it and says what was kept), and a child killed by SIGKILL leaves no
 * partial folders. The child is made to block with SPACETIME_PROBE_TEST_BLOCK_MS at the start of the fit.
 */
import { describe, test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot, onnxModelDir } from '../../helpers/modelFixtures';

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
});
