/**
 * The CLI's huge-page relaunch (src/cli/hugePages.ts): when it applies, and that a relaunched command behaves like a
 * direct one — same results, same exit codes, and a SIGTERM to the parent stops the child without leaving output.
 */
import { test, describe, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot, onnxModelDir } from '../../helpers/modelFixtures';
import { CHILD_V8_FLAGS, childArguments, childEnv, currentHugePageHost, hugePageRelaunchEnv, OFFLINE_COMMANDS, type HugePageHost } from '../../../src/cli/hugePages';

const linux: HugePageHost = { platform: 'linux', glibcVersion: '2.36', transparentHugePages: 'madvise' };

describe('hugePageRelaunchEnv', () => {
  const on = { SPACETIME_PROBE_HUGE_PAGES: '1' };
  test('relaunches heavy commands when asked, on Linux with glibc ≥ 2.35 and THP available, adding the tunable', () => {
    const env = hugePageRelaunchEnv('run', { PATH: '/bin', ...on }, linux);
    assert.equal(env?.GLIBC_TUNABLES, 'glibc.malloc.hugetlb=1');
    assert.equal(env?.PATH, '/bin');
    assert.equal(env?.SPACETIME_PROBE_RELAUNCHED, '1');
    assert.equal(hugePageRelaunchEnv('probe', { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2', ...on }, { ...linux, transparentHugePages: 'always' })?.GLIBC_TUNABLES,
      'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1');
    for (const command of ['extract', 'experiment']) assert.ok(hugePageRelaunchEnv(command, on, linux));
  });

  test('goes on in the same process otherwise', () => {
    const cases: Array<[string | undefined, NodeJS.ProcessEnv, HugePageHost]> = [
      ['run', {}, linux], // off by default
      ['run', { SPACETIME_PROBE_HUGE_PAGES: '0' }, linux],
      ['run', { SPACETIME_PROBE_HUGE_PAGES: 'yes' }, linux], // only "1" asks
      ['datasets', on, linux], // light commands
      [undefined, on, linux],
      ['run', { SPACETIME_PROBE_RELAUNCHED: '1', ...on }, linux], // never twice
      ['run', { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0', ...on }, linux], // the user decided
      ['run', on, { ...linux, platform: 'darwin', glibcVersion: undefined }],
      ['run', on, { ...linux, glibcVersion: undefined }], // musl
      ['run', on, { ...linux, glibcVersion: '2.31' }], // no hugetlb tunable before 2.35
      ['run', on, { ...linux, transparentHugePages: 'never' }],
      ['run', on, { ...linux, transparentHugePages: undefined }],
    ];
    for (const [command, env, host] of cases) assert.equal(hugePageRelaunchEnv(command, env, host), undefined, JSON.stringify([command, env, host]));
  });

  test('reads the host only when huge pages are asked for', () => {
    let reads = 0;
    const read = (): HugePageHost => { reads += 1; return linux; };
    assert.equal(hugePageRelaunchEnv('probe', {}, read), undefined);
    assert.equal(reads, 0);
    assert.equal(hugePageRelaunchEnv('probe', on, read)?.GLIBC_TUNABLES, 'glibc.malloc.hugetlb=1');
    assert.equal(reads, 1);
  });

  test('reads this machine without throwing', () => {
    const host = currentHugePageHost();
    assert.equal(host.platform, process.platform);
    if (process.platform !== 'linux') assert.equal(host.glibcVersion, undefined);
  });
});

describe('childEnv', () => {
  const env = { PATH: '/bin', NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt', SPACETIME_PROBE_RELAUNCHED: '1' };
  test('starts an offline command without the extra CA certificates, and keeps the rest', () => {
    assert.ok(OFFLINE_COMMANDS.has('probe'));
    assert.deepEqual(childEnv('probe', env), { PATH: '/bin', SPACETIME_PROBE_RELAUNCHED: '1' });
    assert.equal(env.NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca-certificates.crt', 'the given environment is not changed');
  });

  test('keeps them for commands that may download (a model from the Hub)', () => {
    for (const command of ['run', 'extract', 'experiment']) {
      assert.ok(!OFFLINE_COMMANDS.has(command), command);
      assert.deepEqual(childEnv(command, env), env);
    }
  });
});

describe('childArguments', () => {
  test('adds the child V8 flags after this process\'s Node options, before the script and its arguments', () => {
    assert.deepEqual(childArguments(['--enable-source-maps'], ['/usr/bin/node', 'out/cli.js', 'probe', '--out', 'x']),
      ['--enable-source-maps', ...CHILD_V8_FLAGS, 'out/cli.js', 'probe', '--out', 'x']);
    assert.ok(CHILD_V8_FLAGS.includes('--no-concurrent-recompilation'));
  });

  test('leaves out a flag this process was given either way (its own choice wins)', () => {
    for (const given of ['--concurrent-recompilation', '--no-concurrent-recompilation', '--concurrent_recompilation']) {
      assert.deepEqual(childArguments([given], ['node', 'cli.js', 'run']), [given, 'cli.js', 'run'], given);
    }
  });

  test('a node given the flags runs (they are real V8 flags of this Node)', () => {
    const result = spawnSync(process.execPath, [...CHILD_V8_FLAGS, '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'ok');
    assert.equal(result.stderr, '');
  });
});

const cli = path.join(repoRoot, 'out', 'cli.js');
const host = currentHugePageHost();
const relaunches = hugePageRelaunchEnv('run', { SPACETIME_PROBE_HUGE_PAGES: '1' }, host) !== undefined;

describe('CLI relaunched with huge pages', { skip: (!fs.existsSync(cli) && 'out/cli.js not built (node scripts/build.mjs)') || (!relaunches && `no relaunch on this machine (${JSON.stringify(host)})`) }, () => {
  let dir: string;
  const gpt2 = onnxModelDir('gpt2-tiny');
  const runCli = (args: string[], env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8', env: { ...process.env, SPACETIME_PROBE_HUGE_PAGES: '1', SPACETIME_PROBE_CACHE_DIR: path.join(dir, 'cache'), ...env }, timeout: 120_000,
  });

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spacetime-hugepages-'));
    const lines = ['name,latitude,longitude'];
    for (let index = 0; index < 60; index += 1) lines.push(`place ${index},${(index * 37) % 180 - 90},${(index * 71) % 360 - 180}`);
    fs.writeFileSync(path.join(dir, 'places.csv'), `${lines.join('\n')}\n`);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('gives the same results.json and output as a direct run', () => {
    const args = (out: string) => ['run', '--dataset', path.join(dir, 'places.csv'), '--model', gpt2, '--out', path.join(dir, out)];
    const relaunched = runCli(args('relaunched'), {});
    const direct = runCli(args('direct'), { SPACETIME_PROBE_HUGE_PAGES: '0' });
    assert.equal(relaunched.status, 0, relaunched.stderr);
    assert.equal(direct.status, 0, direct.stderr);
    assert.equal(relaunched.stdout, direct.stdout);
    const read = (out: string) => {
      const { createdAt: _createdAt, ...rest } = JSON.parse(fs.readFileSync(path.join(dir, out, 'results.json'), 'utf8')) as Record<string, unknown>;
      return rest;
    };
    assert.deepEqual(read('relaunched'), read('direct'));
  });

  test('passes on exit code 2 and the error message for bad input', () => {
    fs.writeFileSync(path.join(dir, 'bad.csv'), 'name,latitude,longitude\nParis,91,2\n');
    const result = runCli(['run', '--dataset', path.join(dir, 'bad.csv'), '--model', gpt2, '--out', path.join(dir, 'bad')], {});
    assert.equal(result.status, 2);
    assert.match(result.stderr, /bad\.csv:2.*latitude 91 is outside \[-90, 90\]/);
    assert.equal(fs.existsSync(path.join(dir, 'bad', 'results.json')), false);
  });

  test('a SIGTERM to the parent stops the child cleanly: non-zero exit, no results.json, no child left', async () => {
    const lines = ['name,year'];
    for (let index = 0; index < 4000; index += 1) lines.push(`entity number ${index} of a long list,${1500 + (index % 500)}`);
    fs.writeFileSync(path.join(dir, 'long.csv'), `${lines.join('\n')}\n`);
    const out = path.join(dir, 'interrupted');
    const child = spawn(process.execPath, [cli, 'run', '--dataset', path.join(dir, 'long.csv'), '--model', gpt2, '--out', out, '--batch-size', '1'], {
      env: { ...process.env, SPACETIME_PROBE_HUGE_PAGES: '1', SPACETIME_PROBE_CACHE_DIR: path.join(dir, 'cache-long') }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const started = new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/extract/i.test(stderr)) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await Promise.race([started, exited]);
    // The grandchild (the relaunched CLI) is the one doing the work: find it before signalling the parent.
    const grandchildren = spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
    assert.equal(grandchildren.length, 1, `expected one relaunched child, stderr so far:\n${stderr}`);
    child.kill('SIGTERM');
    const code = await exited;
    assert.notEqual(code, 0, stderr);
    assert.equal(fs.existsSync(path.join(out, 'results.json')), false);
    assert.throws(() => process.kill(grandchildren[0], 0), /ESRCH/, 'the relaunched CLI is still running');
  });
});
