/**
 * A loopback Hub that lies (issue 15, items 8, 9, 14): unsafe file names in the listing are refused before any
 * file request, a body longer than announced is cut at the announced size and removed, a download that cannot
 * fit is refused before it starts, non-JSON answers and file:// redirects are clear errors, and invalid repo
 * ids, revisions and variants are input errors (exit 2), not stack traces. A disk that fills up mid-download
 * (an injected ENOSPC from the file handle, and a real full tmpfs through the CLI where this process may mount
 * one) removes the partial file and says so, naming the file and the folder.
 */
import { describe, test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { downloadHubModel, HubError, parseHubSpec, repoPathProblem, variantFileName } from '../../../src/core/model/hub/hub';
import { ModelLoadError } from '../../../src/core/model/errors';
import { errnoError, mountSmallFs } from '../../helpers/smallFs';
import { repoRoot } from '../../helpers/modelFixtures';

/** The fs/promises module object itself (fs.promises is it; a namespace import would be a copy): the hub's `fsp.open` reads it, so a test can swap it. */
const fsp = fs.promises;
const COMMIT = 'a'.repeat(40);
const small = (name: string, text: string) => ({ rfilename: name, size: Buffer.byteLength(text), blobId: createHash('sha1').update(`blob ${Buffer.byteLength(text)}\0${text}`).digest('hex') });
const FILES: Record<string, string> = { 'config.json': '{"model_type": "gpt2"}', 'tokenizer.json': '{}' };

interface Lie {
  listing?: () => unknown;
  rawApi?: (response: http.ServerResponse) => void;
  file?: (name: string, response: http.ServerResponse) => void;
}

describe('a lying Hub', () => {
  let server: http.Server;
  let endpoint = '';
  let lie: Lie = {};
  const requests: string[] = [];
  let cacheDir = '';
  const honestListing = (): unknown => ({ sha: COMMIT, siblings: [small('config.json', FILES['config.json']), small('tokenizer.json', FILES['tokenizer.json'])] });

  before(async () => {
    server = http.createServer((request, response) => {
      requests.push(request.url ?? '');
      if (request.url?.startsWith('/api/')) {
        if (lie.rawApi) return lie.rawApi(response);
        response.setHeader('content-type', 'application/json');
        return response.end(JSON.stringify((lie.listing ?? honestListing)()));
      }
      const name = decodeURIComponent((request.url ?? '').split(`/resolve/${COMMIT}/`)[1] ?? '');
      if (lie.file) return lie.file(name, response);
      response.end(FILES[name] ?? '');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const download = (retries = 2) => downloadHubModel('org/model', { endpoint, cacheDir, retries, retryDelayMs: 1, env: {} });
  const fresh = (): void => {
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lying-hub-'));
    requests.length = 0;
    lie = {};
  };
  const fileRequests = () => requests.filter((url) => !url.startsWith('/api/'));

  for (const bad of ['onnx/model.onnx_data/../../config.json', '../../../etc/passwd', '/etc/passwd', 'onnx\\model.onnx_data', 'onnx/model.onnx_data\0.txt', 'C:/x']) {
    test(`an unsafe name in the listing (${JSON.stringify(bad)}) is refused before any file request (item 8)`, async () => {
      fresh();
      lie.listing = () => ({ sha: COMMIT, siblings: [...(honestListing() as { siblings: unknown[] }).siblings, { rfilename: 'onnx/model.onnx', size: 4, lfs: { sha256: 'b'.repeat(64), size: 4 } }, { rfilename: bad, size: 3, blobId: 'c'.repeat(40) }] });
      await assert.rejects(download(), (error: unknown) => error instanceof HubError && error.kind === 'corrupt' && /unusable file name/.test(error.message));
      assert.deepEqual(fileRequests(), []);
    });
  }

  test('repoPathProblem accepts plain relative paths only', () => {
    assert.equal(repoPathProblem('onnx/model.onnx_data'), undefined);
    for (const bad of ['', 'a//b', './a', 'a/..', '/a', 'a\\b', 'a\u0000b', 'a\u001bb', 42]) assert.notEqual(repoPathProblem(bad), undefined, String(bad));
  });

  test('an endless body is cut at the announced size; no .incomplete is left (item 9)', async () => {
    fresh();
    const announced = 1000;
    lie.listing = () => ({ sha: COMMIT, siblings: [...(honestListing() as { siblings: unknown[] }).siblings, { rfilename: 'onnx/model.onnx', size: announced, lfs: { sha256: 'b'.repeat(64), size: announced } }] });
    let sent = 0;
    lie.file = (name, response) => {
      if (name !== 'onnx/model.onnx') return response.end(FILES[name] ?? '');
      const chunk = Buffer.alloc(64 * 1024, 1);
      const pump = (): void => {
        while (!response.destroyed && sent < 512 * 1024 * 1024) {
          sent += chunk.length;
          if (!response.write(chunk)) { response.once('drain', pump); return; }
        }
        response.end();
      };
      pump();
    };
    await assert.rejects(download(), (error: unknown) => error instanceof HubError && error.kind === 'corrupt' && /longer than the 1000 bytes/.test(error.message));
    assert.ok(sent < 64 * 1024 * 1024, `stopped early (${sent} bytes sent)`);
    const blobs = fs.readdirSync(path.join(cacheDir, 'models--org--model', 'blobs'));
    assert.deepEqual(blobs.filter((name) => name.endsWith('.incomplete')), []);
  });

  test('a download that cannot fit on the disk is refused before any file request (item 9)', async () => {
    fresh();
    const huge = 2 ** 52;
    lie.listing = () => ({ sha: COMMIT, siblings: [...(honestListing() as { siblings: unknown[] }).siblings, { rfilename: 'onnx/model.onnx', size: huge, lfs: { sha256: 'b'.repeat(64), size: huge } }] });
    await assert.rejects(download(), (error: unknown) => error instanceof HubError && error.kind === 'no-space' && /nothing was downloaded/.test(error.message));
    assert.deepEqual(fileRequests(), []);
  });

  test('an answer that is not JSON is a HubError naming the URL (item 14)', async () => {
    fresh();
    lie.rawApi = (response) => { response.setHeader('content-type', 'text/html'); response.end('<html>captive portal</html>'); };
    await assert.rejects(download(), (error: unknown) => error instanceof HubError && /is not JSON/.test(error.message) && /\/api\/models\/org\/model/.test(error.message));
  });

  test('a file:// redirect is refused at once, not retried or followed (item 14)', async () => {
    fresh();
    lie.rawApi = (response) => { response.statusCode = 302; response.setHeader('location', 'file:///etc/passwd'); response.end(); };
    await assert.rejects(download(5), (error: unknown) => error instanceof HubError && /only http and https/.test(error.message));
    assert.equal(requests.length, 1);
  });

  test('invalid repo ids, revisions and variants are input errors (item 14)', () => {
    for (const spec of ['hf:org/na me', 'hf:org/../x', 'hf:org/name@a/../b', 'hf:org/name@']) {
      assert.throws(() => parseHubSpec(spec), (error: unknown) => error instanceof ModelLoadError, spec);
    }
    assert.throws(() => variantFileName('fp16/../x'), ModelLoadError);
  });

  /** A listing with one weight file of `size` bytes (its real sha256), served in two halves with `between` run in between. */
  const halfAndHalf = (size: number, between: () => Promise<void> | void): void => {
    const body = Buffer.alloc(size, 7);
    const sha256 = createHash('sha256').update(body).digest('hex');
    lie.listing = () => ({ sha: COMMIT, siblings: [...(honestListing() as { siblings: unknown[] }).siblings, { rfilename: 'onnx/model.onnx', size, lfs: { sha256, size } }] });
    lie.file = (name, response) => {
      if (name !== 'onnx/model.onnx') return response.end(FILES[name] ?? '');
      response.setHeader('content-length', String(size));
      response.write(body.subarray(0, size / 2), () => {
        void Promise.resolve(between()).then(() => response.end(body.subarray(size / 2)), () => response.destroy());
      });
    };
  };
  const leftovers = (): string[] => {
    const blobs = path.join(cacheDir, 'models--org--model', 'blobs');
    return fs.existsSync(blobs) ? fs.readdirSync(blobs).filter((name) => fs.statSync(path.join(blobs, name)).size > 100) : [];
  };

  test('the disk fills up mid-download (injected ENOSPC): the partial file is removed, the message names file and folder', async () => {
    fresh();
    halfAndHalf(256 * 1024, () => undefined);
    const open = fsp.open;
    let failedAfter = -1;
    // The weight file's handle takes the first 100 kB, then the disk is full.
    (fsp as { open: typeof fsp.open }).open = (async (file: fs.PathLike, ...rest: Parameters<typeof fsp.open> extends [unknown, ...infer R] ? R : never) => {
      const handle = await open(file, ...rest);
      if (!String(file).endsWith('.incomplete')) return handle;
      let written = 0;
      const write = handle.write.bind(handle) as (buffer: Buffer) => Promise<unknown>;
      (handle as unknown as { write: (buffer: Buffer) => Promise<unknown> }).write = async (buffer: Buffer) => {
        if (written + buffer.length > 100 * 1024) {
          failedAfter = written;
          throw errnoError('ENOSPC', 'write', String(file));
        }
        written += buffer.length;
        return write(buffer);
      };
      return handle;
    }) as typeof fsp.open;
    try {
      await assert.rejects(download(), (error: unknown) => {
        assert.ok(error instanceof HubError, String(error));
        assert.equal(error.kind, 'no-space');
        assert.match(error.message, /No space left in .*models--org--model.*blobs while downloading onnx\/model\.onnx \(0\.3 MiB\)/);
        assert.match(error.message, /the partial file was removed/);
        return true;
      });
    } finally {
      (fsp as { open: typeof fsp.open }).open = open;
    }
    assert.ok(failedAfter > 0, 'the write failed after some bytes were on disk');
    assert.deepEqual(leftovers(), [], 'no half file (.incomplete or blob) in the cache');
    assert.equal(fs.readdirSync(path.join(cacheDir, 'models--org--model', 'blobs')).some((name) => name.endsWith('.incomplete')), false);
  });

  // Room for the 64 MiB of headroom the free-space check asks for, plus the file.
  const tinyDisk = mountSmallFs(80 * 1024 * 1024);
  test('the disk fills up mid-download, for real (tmpfs), through the CLI: exit 2, message, no half file', { skip: tinyDisk === undefined && 'cannot mount a tmpfs here' }, async () => {
    fresh();
    cacheDir = path.join(tinyDisk!.dir, 'hub');
    const filler = path.join(tinyDisk!.dir, 'filler');
    // 4 MiB fit in the 80 MiB tmpfs when the download starts; after the first half, the rest of the disk is taken.
    halfAndHalf(4 * 1024 * 1024, async () => {
      await waitUntil(() => fs.readdirSync(path.join(cacheDir, 'models--org--model', 'blobs')).some((name) => name.endsWith('.incomplete') && fs.statSync(path.join(cacheDir, 'models--org--model', 'blobs', name)).size >= 2 * 1024 * 1024));
      const handle = fs.openSync(filler, 'w');
      try {
        for (const block = Buffer.alloc(1024 * 1024); ;) fs.writeSync(handle, block);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      } finally {
        fs.closeSync(handle);
      }
    });
    const child = spawn(process.execPath, [path.join(repoRoot, 'out', 'cli.js'), 'models', 'download', 'org/model', '--format', 'onnx', '--cache-dir', cacheDir],
      { env: { ...process.env, HF_ENDPOINT: endpoint, SPACETIME_PROBE_CACHE_DIR: path.join(tinyDisk!.dir, 'cache') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
    assert.equal(code, 2, stderr);
    assert.match(stderr, /No space left in .*hub\/models--org--model\/blobs while downloading onnx\/model\.onnx \(4\.0 MiB\)/);
    assert.match(stderr, /the partial file was removed/);
    fs.rmSync(filler, { force: true });
    assert.deepEqual(leftovers(), [], 'no half file (.incomplete or blob) in the cache');
  });
  after(() => tinyDisk?.dispose());
});

async function waitUntil(check: () => boolean, limitMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > limitMs) throw new Error('gave up waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
