import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  downloadHubModel, HubError, parseHubSpec, resolveHubModel, selectVariantFiles, type HubOptions, type HubProgress,
} from '../../../src/core/model/hub/hub';
import { hubCacheDir, listCachedHubModels, repoFolder } from '../../../src/core/model/hub/hubCache';
import { loadModel } from '../../../src/core/model/loadModel';
import { bypassesProxy, proxyFor } from '../../../src/core/model/hub/hubHttp';
import { startHubServer, startProxy, TEST_TLS_CERT, type HubServer } from '../../helpers/hubServer';
import { onnxModelDir } from '../../helpers/modelFixtures';

const GPT2 = onnxModelDir('gpt2-tiny');
const NEOX = onnxModelDir('neox-tiny');
const TOKEN = 'hf_testTOKENdoNotLog_123456';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'hub-test-'));
}

/** A Hub with gpt2-tiny public, neox-tiny gated, and a run of the test inside a fresh cache folder. */
async function withHub(run: (hub: HubServer, cacheDir: string, base: HubOptions) => Promise<void>, tls = false): Promise<void> {
  const hub = await startHubServer({
    repos: [
      { repoId: 'test-org/gpt2-tiny', dir: GPT2, revisions: { main: 'a'.repeat(40), v1: 'b'.repeat(40) } },
      { repoId: 'test-org/neox-tiny', dir: NEOX, gated: true },
    ],
    token: TOKEN,
    tls,
  });
  const cacheDir = tempDir();
  try {
    await run(hub, cacheDir, { endpoint: hub.endpoint, cacheDir, retryDelayMs: 5, env: {}, ca: tls ? TEST_TLS_CERT : undefined });
  } finally {
    await hub.close();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

function snapshotFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (folder: string, prefix: string) => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path.join(folder, entry.name), relative);
      else out.push(relative);
    }
  };
  walk(dir, '');
  return out.sort();
}

function sameBytes(a: string, b: string): boolean {
  return fs.readFileSync(a).equals(fs.readFileSync(b));
}

test('hub spec parsing and proxy selection', () => {
  assert.deepEqual(parseHubSpec('hf:org/name@v1'), { repoId: 'org/name', revision: 'v1' });
  assert.deepEqual(parseHubSpec('org/name'), { repoId: 'org/name', revision: 'main' });
  assert.throws(() => parseHubSpec('hf:../etc/passwd'), /not a Hub model id/);
  assert.throws(() => parseHubSpec('org/name@../../x'), /not a usable revision/);
  const env = { HTTPS_PROXY: 'http://proxy:3128', http_proxy: 'http://plain:8080', NO_PROXY: '.internal.example, localhost:8443,10.0.0.1' };
  assert.equal(proxyFor(new URL('https://huggingface.co/x'), env)?.host, 'proxy:3128');
  assert.equal(proxyFor(new URL('http://huggingface.co/x'), env)?.host, 'plain:8080');
  assert.equal(proxyFor(new URL('https://cdn.internal.example/x'), env), undefined);
  assert.equal(proxyFor(new URL('https://internal.example/x'), env), undefined);
  assert.equal(bypassesProxy(new URL('https://localhost:8443/'), env), true);
  assert.equal(bypassesProxy(new URL('https://localhost/'), env), false);
  assert.equal(bypassesProxy(new URL('http://10.0.0.1/'), env), true);
  assert.equal(bypassesProxy(new URL('https://anything/'), { NO_PROXY: '*' }), true);
  assert.equal(proxyFor(new URL('https://huggingface.co/'), {}), undefined);
  assert.equal(hubCacheDir({ HF_HOME: '/h' }), path.resolve('/h/hub'));
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '/c', HF_HOME: '/h' }), path.resolve('/c'));
  assert.equal(hubCacheDir({ XDG_CACHE_HOME: '/x' }), path.resolve('/x/huggingface/hub'));
});

test('variant selection: single-graph exports (model*.onnx, then decoder_model*.onnx) with their external data', () => {
  const files = (...names: string[]) => names.map((rfilename) => ({ rfilename, size: 1, blobId: '0'.repeat(40) }));
  const picked = (siblings: ReturnType<typeof files>, variant: string) => selectVariantFiles(siblings, variant, 'o/r').map((s) => s.rfilename);
  const modern = files('config.json', 'tokenizer.json', 'tokenizer_config.json', 'README.md', 'onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/model.onnx_data_1',
    'onnx/model_fp16.onnx', 'onnx/model_fp16.onnx_data', 'onnx/model_quantized.onnx', 'onnx/model_q4.onnx');
  assert.deepEqual(picked(modern, 'fp32'), ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/model.onnx_data_1']);
  assert.deepEqual(picked(modern, 'fp16'), ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model_fp16.onnx', 'onnx/model_fp16.onnx_data']);
  assert.deepEqual(picked(modern, 'q8'), ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model_quantized.onnx']);
  assert.deepEqual(picked(modern, 'q4'), ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model_q4.onnx']);
  const older = files('config.json', 'tokenizer.json', 'onnx/decoder_model.onnx', 'onnx/decoder_model_merged.onnx',
    'onnx/decoder_model_quantized.onnx', 'onnx/decoder_with_past_model.onnx');
  assert.deepEqual(picked(older, 'fp32'), ['config.json', 'tokenizer.json', 'onnx/decoder_model.onnx']);
  assert.deepEqual(picked(older, 'q8'), ['config.json', 'tokenizer.json', 'onnx/decoder_model_quantized.onnx']);
  const mergedOnly = files('config.json', 'tokenizer.json', 'onnx/decoder_model_merged.onnx', 'onnx/decoder_with_past_model.onnx');
  // Merged decoders are taken when nothing else is there (their no-past branch is inlined at load time).
  assert.deepEqual(picked(mergedOnly, 'fp32'), ['config.json', 'tokenizer.json', 'onnx/decoder_model_merged.onnx']);
  const mergedQuantized = files('config.json', 'tokenizer.json', 'onnx/decoder_model_merged.onnx', 'onnx/decoder_model_merged_quantized.onnx');
  assert.deepEqual(picked(mergedQuantized, 'q8'), ['config.json', 'tokenizer.json', 'onnx/decoder_model_merged_quantized.onnx']);
  assert.throws(() => picked(mergedOnly, 'fp16'), /no fp16 export[\s\S]*decoder_model_merged\.onnx/);
  // onnxruntime-genai builder repos: per-provider folders, no root config.json; fp32 means the CPU fp32 build if any.
  const genai = files('README.md', 'cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4/genai_config.json',
    'cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4/model.onnx', 'cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4/model.onnx.data',
    'cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4/tokenizer.json', 'cuda/cuda-fp16/genai_config.json', 'cuda/cuda-fp16/model.onnx',
    'cuda/cuda-fp16/model.onnx.data', 'cuda/cuda-fp16/tokenizer.json', 'cuda/cuda-fp16/tokenizer_config.json');
  assert.deepEqual(picked(genai, 'fp32'), ['cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4/genai_config.json',
    'cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4/model.onnx', 'cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4/model.onnx.data',
    'cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4/tokenizer.json']);
  assert.deepEqual(picked(genai, 'cuda-fp16'), ['cuda/cuda-fp16/genai_config.json', 'cuda/cuda-fp16/model.onnx',
    'cuda/cuda-fp16/model.onnx.data', 'cuda/cuda-fp16/tokenizer.json', 'cuda/cuda-fp16/tokenizer_config.json']);
  assert.deepEqual(picked(genai, 'cuda/cuda-fp16'), picked(genai, 'cuda-fp16'));
  assert.throws(() => picked(files('config.json', 'model.safetensors', 'tokenizer.json'), 'fp32'), /has no ONNX export/);
  assert.throws(() => picked(files('config.json', 'onnx/model.onnx'), 'fp32'), /has no tokenizer\.json/);
});

test('downloads a model into the huggingface_hub layout, verifies it, and reuses it', async () => {
  await withHub(async (hub, cacheDir, base) => {
    const progress: HubProgress[] = [];
    const result = await downloadHubModel('test-org/gpt2-tiny', { ...base, token: TOKEN, onProgress: (p) => progress.push(p) });
    const repoDir = repoFolder(cacheDir, 'test-org/gpt2-tiny');
    assert.equal(result.commit, 'a'.repeat(40));
    assert.equal(result.dir, path.join(repoDir, 'snapshots', 'a'.repeat(40)));
    assert.deepEqual(snapshotFiles(result.dir), ['config.json', 'onnx/model.onnx', 'tokenizer.json']);
    for (const file of ['config.json', 'tokenizer.json', 'onnx/model.onnx']) {
      const link = path.join(result.dir, file);
      assert.ok(fs.lstatSync(link).isSymbolicLink(), `${file} is a symlink into blobs/`);
      assert.ok(fs.readlinkSync(link).startsWith(file.includes('/') ? '../../../blobs/' : '../../blobs/'));
      assert.ok(sameBytes(link, path.join(GPT2, file)), `${file} content`);
    }
    const served = hub.files.get('test-org/gpt2-tiny')!;
    assert.ok(fs.existsSync(path.join(repoDir, 'blobs', served.get('onnx/model.onnx')!.sha256!)), 'LFS blob named by sha256');
    assert.ok(fs.existsSync(path.join(repoDir, 'blobs', served.get('config.json')!.blobId)), 'regular blob named by git sha1');
    assert.equal(fs.readFileSync(path.join(repoDir, 'refs', 'main'), 'utf8'), 'a'.repeat(40));
    // The token goes to the Hub, never to the CDN the LFS file is redirected to.
    assert.ok(hub.requests.filter((r) => r.origin === 'hub').every((r) => r.authorization === `Bearer ${TOKEN}`));
    const cdn = hub.requests.filter((r) => r.origin === 'cdn');
    assert.equal(cdn.length, 1);
    assert.equal(cdn[0].authorization, undefined);
    // Progress: resolving first, done last, byte counts never decrease and end at the total.
    assert.equal(progress[0].phase, 'resolving');
    assert.equal(progress.at(-1)!.phase, 'done');
    const total = progress.at(-1)!.total;
    assert.equal(total, [...served.values()].filter((f) => ['config.json', 'tokenizer.json', 'onnx/model.onnx'].includes(f.path)).reduce((s, f) => s + f.size, 0));
    for (let i = 1; i < progress.length; i += 1) assert.ok(progress[i].bytes >= progress[i - 1].bytes);
    // Again: nothing is downloaded, only the API is asked which commit main is.
    hub.requests.length = 0;
    const again = await downloadHubModel('test-org/gpt2-tiny', base);
    assert.deepEqual(again.files.map((f) => f.cached), [true, true, true]);
    assert.equal(again.downloadedBytes, 0);
    assert.deepEqual(hub.requests.map((r) => r.url.split('?')[0]), ['/api/models/test-org/gpt2-tiny/revision/main']);
    // Another revision shares the blobs and gets its own snapshot and ref.
    const v1 = await downloadHubModel('test-org/gpt2-tiny', { ...base, revision: 'v1' });
    assert.equal(v1.downloadedBytes, 0);
    assert.equal(fs.readFileSync(path.join(repoDir, 'refs', 'v1'), 'utf8'), 'b'.repeat(40));
    const listed = listCachedHubModels(cacheDir);
    assert.deepEqual(listed.map((m) => [m.repoId, m.refs.join(','), m.numHiddenLayers, m.hiddenSize]),
      [['test-org/gpt2-tiny', 'main', 4, 32], ['test-org/gpt2-tiny', 'v1', 4, 32]]);
    // Resolution from the cache needs no network.
    hub.requests.length = 0;
    assert.equal(await resolveHubModel('hf:test-org/gpt2-tiny', base), result.dir);
    assert.equal(hub.requests.length, 0);
  });
});

test('a dropped connection is resumed with Range and the file still verifies', async () => {
  await withHub(async (hub, _cacheDir, base) => {
    hub.faults = { dropAfter: { file: 'onnx/model.onnx', bytes: 200_000, times: 2 } };
    const logged: string[] = [];
    const result = await downloadHubModel('test-org/gpt2-tiny', { ...base, log: (line) => logged.push(line) });
    assert.ok(sameBytes(path.join(result.dir, 'onnx/model.onnx'), path.join(GPT2, 'onnx/model.onnx')));
    // Where the cut lands on the client side depends on socket buffers: offsets only need to grow.
    const offsets = hub.requests.filter((r) => r.origin === 'cdn').map((r) => (r.range === undefined ? 0 : Number(/^bytes=(\d+)-$/.exec(r.range)?.[1])));
    assert.equal(offsets.length, 3);
    assert.ok(offsets[0] === 0 && offsets[1] > 0 && offsets[2] > offsets[1], `resume offsets ${offsets.join(', ')}`);
    assert.equal(logged.filter((line) => /resuming/.test(line)).length, 2);
  });
});

test('a transfer that stalls is cut off by the idle timeout and resumed', async () => {
  await withHub(async (hub, _cacheDir, base) => {
    hub.faults = { stallAfter: { file: 'onnx/model.onnx', bytes: 300_000, times: 1 } };
    const logged: string[] = [];
    const result = await downloadHubModel('test-org/gpt2-tiny', { ...base, idleTimeoutMs: 300, log: (line) => logged.push(line) });
    assert.ok(sameBytes(path.join(result.dir, 'onnx/model.onnx'), path.join(GPT2, 'onnx/model.onnx')));
    assert.match(logged.join('\n'), /idle for 300 ms; resuming/);
    assert.match(hub.requests.filter((r) => r.origin === 'cdn')[1]?.range ?? '', /^bytes=\d+-$/);
  });
});

test('a server that ignores Range still yields a correct file (restart from zero)', async () => {
  await withHub(async (hub, _cacheDir, base) => {
    hub.faults = { dropAfter: { file: 'onnx/model.onnx', bytes: 500_000, times: 1 }, ignoreRange: true };
    const result = await downloadHubModel('test-org/gpt2-tiny', base);
    assert.ok(sameBytes(path.join(result.dir, 'onnx/model.onnx'), path.join(GPT2, 'onnx/model.onnx')));
  });
});

test('bounded retries: a connection that keeps dropping fails with a clear error and keeps the partial file', async () => {
  await withHub(async (hub, cacheDir, base) => {
    hub.faults = { dropAfter: { file: 'onnx/model.onnx', bytes: 100, times: 100 } };
    await assert.rejects(downloadHubModel('test-org/gpt2-tiny', { ...base, retries: 3 }),
      (error: unknown) => error instanceof HubError && error.kind === 'network' && /failed after 3 attempts/.test(error.message) && /resumes/.test(error.message));
    const blobsDir = path.join(repoFolder(cacheDir, 'test-org/gpt2-tiny'), 'blobs');
    const blobs = fs.readdirSync(blobsDir);
    const partial = blobs.filter((name) => name.endsWith('.incomplete'));
    assert.equal(partial.length, 1);
    assert.equal(blobs.filter((name) => name.endsWith('.lock')).length, 0);
    const kept = fs.statSync(path.join(blobsDir, partial[0])).size;
    assert.ok(kept > 0 && kept <= 300, `kept ${kept} bytes`);
    // The next run resumes from the bytes already there.
    hub.faults = {};
    hub.requests.length = 0;
    await downloadHubModel('test-org/gpt2-tiny', base);
    assert.deepEqual(hub.requests.filter((r) => r.origin === 'cdn').map((r) => r.range), [`bytes=${kept}-`]);
  });
});

test('5xx answers are retried', async () => {
  await withHub(async (hub, _cacheDir, base) => {
    hub.faults = { status: { file: 'tokenizer.json', code: 503, times: 2 } };
    const result = await downloadHubModel('test-org/gpt2-tiny', base);
    assert.ok(sameBytes(path.join(result.dir, 'tokenizer.json'), path.join(GPT2, 'tokenizer.json')));
  });
});

test('a corrupted file is detected by its hash, deleted, and reported', async () => {
  await withHub(async (hub, cacheDir, base) => {
    for (const file of ['onnx/model.onnx', 'config.json']) {
      fs.rmSync(cacheDir, { recursive: true, force: true });
      hub.faults = { corrupt: { file, times: 1 } };
      await assert.rejects(downloadHubModel('test-org/gpt2-tiny', base), (error: unknown) => {
        assert.ok(error instanceof HubError);
        assert.equal(error.kind, 'corrupt');
        assert.match(error.message, new RegExp(`${file.replace('.', '\\.')} from test-org/gpt2-tiny@a{12} is corrupted \\((sha256|git blob sha1) .*\\); the download was deleted`));
        return true;
      });
      const repoDir = repoFolder(cacheDir, 'test-org/gpt2-tiny');
      const served = hub.files.get('test-org/gpt2-tiny')!.get(file)!;
      const blob = path.join(repoDir, 'blobs', served.sha256 ?? served.blobId);
      assert.equal(fs.existsSync(blob), false);
      assert.equal(fs.existsSync(`${blob}.incomplete`), false);
      assert.equal(fs.existsSync(path.join(repoDir, 'refs', 'main')), false, 'no ref for an incomplete snapshot');
    }
    hub.faults = {};
    const result = await downloadHubModel('test-org/gpt2-tiny', base);
    assert.ok(sameBytes(path.join(result.dir, 'onnx/model.onnx'), path.join(GPT2, 'onnx/model.onnx')));
  });
});

test('404s say whether the repo, the revision or the variant is missing', async () => {
  await withHub(async (_hub, _cacheDir, base) => {
    await assert.rejects(downloadHubModel('test-org/nope', base), /Not found on the Hub: repository test-org\/nope \(HTTP 404, RepoNotFound\)/);
    await assert.rejects(downloadHubModel('test-org/gpt2-tiny', { ...base, revision: 'v9' }), /revision of test-org\/gpt2-tiny \(HTTP 404, RevisionNotFound\)/);
    await assert.rejects(downloadHubModel('test-org/gpt2-tiny', { ...base, variant: 'fp16' }),
      (error: unknown) => error instanceof HubError && error.kind === 'missing-files' && /no fp16 export \(model_fp16\.onnx\)/.test(error.message)
        && /ONNX files in the repo: onnx\/model\.onnx/.test(error.message));
  });
});

test('gated repos: 401 without a token asks to accept the licence; 403 with a wrong one; the token is never shown', async () => {
  await withHub(async (_hub, _cacheDir, base) => {
    const logged: string[] = [];
    const progress: string[] = [];
    const options = { ...base, log: (line: string) => logged.push(line), onProgress: (p: HubProgress) => progress.push(JSON.stringify(p)) };
    await assert.rejects(downloadHubModel('test-org/neox-tiny', options), (error: unknown) => {
      assert.ok(error instanceof HubError);
      assert.equal(error.status, 401);
      assert.match(error.message, /needs a token \(HTTP 401: gated or private repo\)[\s\S]*Accept the licence on the Hub page/);
      return true;
    });
    const wrong = 'hf_WRONGtokenSECRET';
    await assert.rejects(downloadHubModel('test-org/neox-tiny', { ...options, token: wrong }), (error: unknown) => {
      assert.ok(error instanceof HubError);
      assert.equal(error.status, 403);
      assert.match(error.message, /accept the licence/);
      assert.ok(!error.message.includes(wrong) && !String(error.stack).includes(wrong));
      return true;
    });
    const result = await downloadHubModel('test-org/neox-tiny', { ...options, token: TOKEN });
    assert.ok(sameBytes(path.join(result.dir, 'onnx/model.onnx'), path.join(NEOX, 'onnx/model.onnx')));
    for (const line of [...logged, ...progress]) assert.ok(!line.includes(TOKEN) && !line.includes(wrong));
  });
});

test('HTTP_PROXY forwards requests; NO_PROXY bypasses the proxy', async () => {
  await withHub(async (hub, cacheDir, base) => {
    const proxy = await startProxy({ credentials: 'user:secret' });
    try {
      const proxyUrl = proxy.url.replace('http://', 'http://user:secret@');
      await downloadHubModel('test-org/gpt2-tiny', { ...base, env: { HTTP_PROXY: proxyUrl } });
      assert.ok(proxy.requests.some((line) => line === `GET ${hub.endpoint}/api/models/test-org/gpt2-tiny/revision/main?blobs=true`));
      assert.ok(proxy.requests.some((line) => line.startsWith(`GET ${hub.cdnEndpoint}/cdn/`)), 'the CDN redirect also goes through the proxy');
      fs.rmSync(cacheDir, { recursive: true, force: true });
      proxy.requests.length = 0;
      await downloadHubModel('test-org/gpt2-tiny', { ...base, env: { HTTP_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' } });
      assert.deepEqual(proxy.requests, []);
      // Wrong proxy credentials: the proxy's 407 surfaces as an HTTP error, not a hang.
      fs.rmSync(cacheDir, { recursive: true, force: true });
      await assert.rejects(downloadHubModel('test-org/gpt2-tiny', { ...base, env: { HTTP_PROXY: proxy.url } }), /HTTP 407/);
    } finally {
      await proxy.close();
    }
  });
});

test('HTTPS_PROXY tunnels https with CONNECT (TLS end to end)', async () => {
  await withHub(async (hub, _cacheDir, base) => {
    const proxy = await startProxy();
    try {
      const result = await downloadHubModel('test-org/gpt2-tiny', { ...base, env: { HTTPS_PROXY: proxy.url }, token: TOKEN });
      assert.ok(sameBytes(path.join(result.dir, 'onnx/model.onnx'), path.join(GPT2, 'onnx/model.onnx')));
      const hubAuthority = new URL(hub.endpoint).host;
      const cdnAuthority = new URL(hub.cdnEndpoint).host;
      assert.ok(proxy.requests.includes(`CONNECT ${hubAuthority}`));
      assert.ok(proxy.requests.includes(`CONNECT ${cdnAuthority}`));
      assert.ok(proxy.requests.every((line) => line.startsWith('CONNECT ')), 'nothing in clear text through the proxy');
    } finally {
      await proxy.close();
    }
  }, true);
});

test('an abort stops the download, keeps the partial file, and the next run resumes it', async () => {
  await withHub(async (hub, _cacheDir, base) => {
    const controller = new AbortController();
    let aborted = false;
    await assert.rejects(downloadHubModel('test-org/gpt2-tiny', {
      ...base,
      signal: controller.signal,
      onProgress: (p) => {
        if (!aborted && p.file === 'onnx/model.onnx' && p.phase === 'downloading' && p.fileBytes > 0) {
          aborted = true;
          controller.abort();
        }
      },
    }), (error: unknown) => (error as Error).name === 'AbortError');
    hub.requests.length = 0;
    const result = await downloadHubModel('test-org/gpt2-tiny', base);
    assert.ok(sameBytes(path.join(result.dir, 'onnx/model.onnx'), path.join(GPT2, 'onnx/model.onnx')));
    const range = hub.requests.find((r) => r.origin === 'cdn')?.range;
    assert.match(range ?? '', /^bytes=\d+-$/, 'resumed with Range');
  });
});

test('HF_HUB_OFFLINE uses the cache and says how to fill it when the model is missing', async () => {
  await withHub(async (hub, _cacheDir, base) => {
    await assert.rejects(resolveHubModel('hf:test-org/gpt2-tiny', { ...base, env: { HF_HUB_OFFLINE: '1' } }),
      /not in the Hub cache .* HF_HUB_OFFLINE is set[\s\S]*spacetime-probe models download test-org\/gpt2-tiny --variant fp32/);
    assert.equal(hub.requests.length, 0);
    const dir = await resolveHubModel('hf:test-org/gpt2-tiny@v1', base);
    assert.equal(path.basename(dir), 'b'.repeat(40));
    hub.requests.length = 0;
    assert.equal(await resolveHubModel('hf:test-org/gpt2-tiny@v1', { ...base, env: { HF_HUB_OFFLINE: '1' } }), dir);
    assert.equal(hub.requests.length, 0);
  });
});

test('loadModel("hf:…") downloads once and runs the model like a local folder (gpt2-tiny vs its PyTorch reference)', async () => {
  await withHub(async (hub, cacheDir, base) => {
    const reference = JSON.parse(fs.readFileSync(path.join(GPT2, 'reference.json'), 'utf8')) as {
      prompts: { prompt: string; ids: number[]; layers: number[][] }[];
    };
    const model = await loadModel('hf:test-org/gpt2-tiny', { hub: base, device: 'cpu' });
    try {
      assert.equal(model.id, 'hf:test-org/gpt2-tiny');
      assert.equal(model.numLayers, reference.prompts[0].layers.length);
      const prompt = reference.prompts[0];
      const [tokenized] = model.tokenize([prompt.prompt]);
      assert.deepEqual(tokenized.ids, prompt.ids);
      const output = await model.runBatch([tokenized]);
      const expected = prompt.layers.flat();
      const worst = Math.max(...expected.map((value, index) => Math.abs(value - output[index])));
      assert.ok(worst < 1e-4, `max |ours − torch| = ${worst}`);
    } finally {
      await model.dispose();
    }
    hub.requests.length = 0;
    const again = await loadModel('hf:test-org/gpt2-tiny', { hub: { ...base, cacheDir }, device: 'cpu' });
    await again.dispose();
    assert.equal(hub.requests.length, 0, 'served from the cache');
  });
});

test('hf: specs without a variant use whichever of fp32, fp16, q8 is cached, without the network', async () => {
  const repoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-q8-repo-'));
  fs.mkdirSync(path.join(repoDir, 'onnx'));
  for (const file of ['config.json', 'tokenizer.json']) fs.copyFileSync(path.join(GPT2, file), path.join(repoDir, file));
  fs.copyFileSync(path.join(GPT2, 'onnx', 'model.onnx'), path.join(repoDir, 'onnx', 'model_quantized.onnx'));
  const hub = await startHubServer({ repos: [{ repoId: 'test-org/only-q8', dir: repoDir }] });
  const cacheDir = tempDir();
  try {
    const base = { endpoint: hub.endpoint, cacheDir, env: {}, retryDelayMs: 5 };
    await downloadHubModel('test-org/only-q8', { ...base, variant: 'q8' });
    hub.requests.length = 0;
    const model = await loadModel('hf:test-org/only-q8', { hub: base, device: 'cpu' });
    await model.dispose();
    assert.equal(hub.requests.length, 0);
  } finally {
    await hub.close();
    fs.rmSync(cacheDir, { recursive: true, force: true });
    fs.rmSync(repoDir, { recursive: true, force: true });
  }
});
