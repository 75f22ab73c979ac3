/**
 * A loopback Hugging Face Hub for tests: serves model folders (the test fixtures) in the Hub's URL layout, with a
 * second "CDN" origin for LFS files (as the real Hub redirects them), injectable faults, a request log, optional
 * TLS, and a forwarding/CONNECT proxy.
 *
 *   GET /api/models/{org}/{name}/revision/{rev}?blobs=true   → { id, sha, siblings: [{ rfilename, size, blobId, lfs? }] }
 *   GET /{org}/{name}/resolve/{rev}/{path}                    → regular files directly (ETag = git blob sha1);
 *                                                               LFS files (*.onnx, *.onnx_data*, *.safetensors) 302 → CDN
 *   GET {cdn}/cdn/{sha256}                                     → the bytes, with Range support
 * Errors carry X-Error-Code like the Hub's (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

/** Self-signed certificate for localhost / 127.0.0.1, valid 2020–2120; test use only. */
export const TEST_TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIC4jCCAcqgAwIBAgIBATANBgkqhkiG9w0BAQsFADAUMRIwEAYDVQQDDAlsb2Nh
bGhvc3QwIBcNMjAwMTAxMDAwMDAwWhgPMjEyMDAxMDEwMDAwMDBaMBQxEjAQBgNV
BAMMCWxvY2FsaG9zdDCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBALO/
PTjjd7AnylUHtBWHNOfJd4SXcXZHejIcaHyA1NtDoaL5NQxrt3YI/zyUsUBKsDxF
p+KoPt3RDCr1g/IeC8/F700yjcbdQg8M23lqnHap+DPlZmc5NbNjEgY13ID+21Hy
mrK3un5sH1JVAZwNIFRuUjQS9nIL9Ec1wORsG8dqMMenoElYC9XCOVOMdEIQhotk
VcpTU8ED1sDmaDjvGfXqbkRYn/0AOE3tkcdvRWaN0sYWdz5vwFClR/BtSuj3oQU0
0eo1T2RaMCvpxThrqzgRERcziQn805JCODApLHgj8p4hYGfyY3jfu/ZDxZffWJ6y
KfsnwcuW44wkXkPcKS8CAwEAAaM9MDswGgYDVR0RBBMwEYIJbG9jYWxob3N0hwR/
AAABMB0GA1UdDgQWBBSesbDD5VGOVVU3YIC/jFA/zWmVTTANBgkqhkiG9w0BAQsF
AAOCAQEAFSHbQLB7W+2Xq4Xsk41qTCjehSJzF4j0WNRDr5Se4cyjKXo7tpFHEGYd
13JU+yGD1NQWq0ctg4RLCsa41NTzQBB7iFtGJXBleEaXXyBPVRgqdzdzH21Uzrh9
+EoUVWP+29hwDzJ08aFyXE1EZiR6KMm8uIQOhQ4d+g2be22R8UG2yjywAlZfoTPp
F3o51Y8NtbPF7gv1aDP6+5+vJDQwwfsVTj0b8y222Qb7GnsC0oZIjz7HM/Zk6Ff0
7NzlwoOEsdioVgpkfcv0kJXHIgKspEcacFTzVhDQPe+4OSdYv8PqpBUmcj8kVg7v
mZ+XyhGayOh3tAG7oQB6mYlGeDpWOg==
-----END CERTIFICATE-----`;
export const TEST_TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCzvz0443ewJ8pV
B7QVhzTnyXeEl3F2R3oyHGh8gNTbQ6Gi+TUMa7d2CP88lLFASrA8RafiqD7d0Qwq
9YPyHgvPxe9NMo3G3UIPDNt5apx2qfgz5WZnOTWzYxIGNdyA/ttR8pqyt7p+bB9S
VQGcDSBUblI0EvZyC/RHNcDkbBvHajDHp6BJWAvVwjlTjHRCEIaLZFXKU1PBA9bA
5mg47xn16m5EWJ/9ADhN7ZHHb0VmjdLGFnc+b8BQpUfwbUro96EFNNHqNU9kWjAr
6cU4a6s4EREXM4kJ/NOSQjgwKSx4I/KeIWBn8mN437v2Q8WX31iesin7J8HLluOM
JF5D3CkvAgMBAAECggEASfGrzWniNIEB/v3myw5uqMXcGZs1jXt1HQVLxKA5MKR/
a6yKcrwjYnbsDS98RZ8UJg9fs+ITzquvjkKnD6Tlpgle2wqngX5HLSrUZPwDNtvQ
ZAUEngVOfqgMY6qnthdiATHFCy2DFnwDXJrkyR4rRSCHR63fXWZmjR7jZfTFbsCh
bVkDv0oh+v6wfaNcs2Rt8k9ifWsr97PBOipJfab0V60DJqC83MLOZk4TW1vMmKKf
N1g7y2Pa/tEndNdSV1pf4zMWxdi13mFdgmEPYC4PKhqn/fGe/2qpdLxhtAVit5dn
6+sJuDs+/1KrzStJAAD8lLMyAL2pCnUjYoogtlmMwQKBgQD7ZTIu1qQ2JyTvfHTU
YGavxfHAG4/ZJ+UiJ5PjNJnFL67tLm427ikNU0amH8FM5csilKKk7ZFE185Ro+p0
wcgoaIB1VVgv+xAr6Pa8n4Dr9krxT6ZlJTiGREmJ72u9GmXD1bUV52rhbY/ALHbN
SBCX+WCcPN/IfdF1HpBuv1qObwKBgQC3ChTFFc0HMcqXS6xRoLHiEFH5iHtA4H/R
74VtdGmYJcRKnmreXlpoGsGRWFqPHUyU2zdHGSr0Up/IKmfjDj0xxWz4kAaptK4f
ZtdY73aSm668cow0mbHjDC30fbfqe8B5yxPNZeGB+Onefx+cgMQRxcCMRHHItwCC
IRZ4inFxQQKBgC3azYaBnD5McY5FU0IRu2lAX9I8tMZVYpQSSAVfaNTw16VnnK7k
ThSiJfbTP/z4xU6vceNHegHmozl8/p0BY7MLLLM6N/W4g8Ceo7LQHUHtEMpnTuCQ
I3lKJ2fDhhFeKUXJS1iNd49a3qec9KaJCI3P7PFSoTb+zB/izVGGEcx9AoGAKkMt
oIP0HyEkAeL7Gq3b5LKX+uHEc6piWPrQ+ADVEMhHlmMVkdp/TWJAJ2sbHchKEmS7
UrNA88DQG8uOySJUhtVq38mBgFWzjpSUTHieDCPeKKzaKpsCM8ZwJe+RM5b3TifR
nq9Tbksm1LTNe7lPjDr4xmpXS1zVxTYWliaBIwECgYEA59G/xO7eXp57EH5TSqAm
rCPCK3Oh3mZkZbkSOfOM5KStB6cEwoxi5c8FsoQqeWdYFxHmyv5AxYMkw4GewBCy
vS2UWfjC9mehlVHqFhpRffIgMMr+0Hi6sXKObd9SOOtYszxDs2GVV3y3KnOTIe0E
z7AQE/vUipteD8h411qq7hU=
-----END PRIVATE KEY-----`;

export interface HubFixtureRepo {
  readonly repoId: string;
  /** Folder whose files make up the repo. */
  readonly dir: string;
  /** Branch/tag → commit; default { main: sha1(repoId) }. */
  readonly revisions?: Readonly<Record<string, string>>;
  /** Requires `Authorization: Bearer <server token>`. */
  readonly gated?: boolean;
}

export interface HubFaults {
  /** Cut the connection after sending this many body bytes of a file, `times` times. */
  dropAfter?: { file: string; bytes: number; times: number };
  /** Serve the file with one byte flipped, `times` times. */
  corrupt?: { file: string; times: number };
  /** Answer this status for a file (or the API when file is "api"), `times` times. */
  status?: { file: string; code: number; times: number };
  /** Send this many body bytes of a file, then go silent (connection left open), `times` times. */
  stallAfter?: { file: string; bytes: number; times: number };
  /** Answer 200 with the whole file even when a Range is asked for. */
  ignoreRange?: boolean;
}

export interface LoggedRequest {
  readonly origin: 'hub' | 'cdn';
  readonly method: string;
  readonly url: string;
  readonly authorization?: string;
  readonly range?: string;
}

export interface HubServer {
  readonly endpoint: string;
  readonly cdnEndpoint: string;
  readonly requests: LoggedRequest[];
  faults: HubFaults;
  /** Files as served: repo path → content hashes. */
  readonly files: ReadonlyMap<string, ReadonlyMap<string, ServedFile>>;
  close(): Promise<void>;
}

export interface ServedFile {
  readonly path: string;
  readonly absolute: string;
  readonly size: number;
  readonly blobId: string;
  readonly sha256?: string;
}

const LFS = /\.onnx$|\.onnx_data|\.onnx\.data|\.safetensors$/;

function walk(dir: string, prefix = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? walk(path.join(dir, entry.name), relative) : [relative];
  });
}

function describeRepo(repo: HubFixtureRepo): Map<string, ServedFile> {
  const files = new Map<string, ServedFile>();
  for (const relative of walk(repo.dir).sort()) {
    const absolute = path.join(repo.dir, relative);
    const bytes = fs.readFileSync(absolute);
    const blobId = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
    files.set(relative, {
      path: relative, absolute, size: bytes.length, blobId,
      sha256: LFS.test(relative) ? createHash('sha256').update(bytes).digest('hex') : undefined,
    });
  }
  return files;
}

function commitsOf(repo: HubFixtureRepo): Record<string, string> {
  return { ...(repo.revisions ?? { main: createHash('sha1').update(repo.repoId).digest('hex') }) };
}

function take<T extends { times: number }>(fault: T | undefined, matches: boolean): boolean {
  if (!fault || !matches || fault.times <= 0) return false;
  fault.times -= 1;
  return true;
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function startHubServer(options: { repos: readonly HubFixtureRepo[]; token?: string; faults?: HubFaults; tls?: boolean }): Promise<HubServer> {
  const repos = new Map(options.repos.map((repo) => [repo.repoId, { repo, files: describeRepo(repo), commits: commitsOf(repo) }]));
  const blobs = new Map<string, ServedFile>();
  for (const { files } of repos.values()) for (const file of files.values()) if (file.sha256) blobs.set(file.sha256, file);
  const requests: LoggedRequest[] = [];
  const state: { faults: HubFaults } = { faults: options.faults ?? {} };
  const create = (handler: http.RequestListener): http.Server =>
    options.tls ? https.createServer({ cert: TEST_TLS_CERT, key: TEST_TLS_KEY }, handler) : http.createServer(handler);
  const scheme = options.tls ? 'https' : 'http';

  const fail = (response: http.ServerResponse, code: number, errorCode: string, message: string) => {
    response.writeHead(code, { 'content-type': 'application/json', 'x-error-code': errorCode });
    response.end(JSON.stringify({ error: message }));
  };

  /** Send a file (whole or from a Range), applying drop/corrupt faults. */
  const sendFile = (request: http.IncomingMessage, response: http.ServerResponse, file: ServedFile, headers: Record<string, string>) => {
    let body = fs.readFileSync(file.absolute);
    if (take(state.faults.corrupt, state.faults.corrupt?.file === file.path)) {
      body = Buffer.from(body);
      body[Math.floor(body.length / 2)] ^= 0xff;
    }
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    let start = 0;
    if (range && !state.faults.ignoreRange) {
      start = Number(range[1]);
      if (start >= body.length) {
        response.writeHead(416, { 'content-range': `bytes */${body.length}` });
        response.end();
        return;
      }
      response.writeHead(206, { ...headers, 'content-length': String(body.length - start), 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
    } else {
      response.writeHead(200, { ...headers, 'content-length': String(body.length), 'accept-ranges': 'bytes' });
    }
    const slice = body.subarray(start);
    const drop = state.faults.dropAfter;
    if (drop && drop.file === file.path && drop.bytes < slice.length && take(drop, true)) {
      response.write(slice.subarray(0, drop.bytes), () => setTimeout(() => request.socket.destroy(), 20));
      return;
    }
    const stall = state.faults.stallAfter;
    if (stall && stall.file === file.path && stall.bytes < slice.length && take(stall, true)) {
      response.write(slice.subarray(0, stall.bytes));
      return;
    }
    response.end(method(request) === 'HEAD' ? undefined : slice);
  };

  const cdnServer = create((request, response) => {
    requests.push({ origin: 'cdn', method: method(request), url: request.url ?? '', authorization: request.headers.authorization, range: request.headers.range });
    const match = /^\/cdn\/([0-9a-f]{64})/.exec(request.url ?? '');
    const file = match ? blobs.get(match[1]) : undefined;
    if (!file) return fail(response, 404, 'EntryNotFound', 'no such blob');
    sendFile(request, response, file, { etag: `"${file.sha256}"` });
  });
  const cdnPort = await listen(cdnServer);
  const cdnEndpoint = `${scheme}://127.0.0.1:${cdnPort}`;

  const hubServer = create((request, response) => {
    const url = new URL(request.url ?? '/', 'http://placeholder');
    requests.push({ origin: 'hub', method: method(request), url: request.url ?? '', authorization: request.headers.authorization, range: request.headers.range });
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/(.+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const repoId = api?.[1] ?? resolve?.[1];
    const entry = repoId ? repos.get(repoId) : undefined;
    if (!api && !resolve) return fail(response, 404, 'NotFound', 'unknown route');
    if (!entry) return fail(response, 404, 'RepoNotFound', 'Repository not found');
    if (entry.repo.gated) {
      const authorization = request.headers.authorization;
      if (!authorization) return fail(response, 401, 'GatedRepo', 'Access to this repo is restricted: you must be authenticated');
      if (authorization !== `Bearer ${options.token}`) return fail(response, 403, 'GatedRepo', 'Access to this repo is restricted and you are not in the authorized list');
    }
    const revision = decodeURIComponent((api?.[2] ?? resolve?.[2])!);
    const commit = /^[0-9a-f]{40}$/.test(revision) && Object.values(entry.commits).includes(revision) ? revision : entry.commits[revision];
    if (!commit) return fail(response, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
    const wanted = api ? 'api' : decodeURIComponent(resolve![3]);
    const forced = state.faults.status;
    if (forced && forced.file === wanted && take(forced, true)) return fail(response, forced.code, 'Injected', `injected ${forced.code}`);
    if (api) {
      const siblings = [...entry.files.values()].map((file) => ({
        rfilename: file.path, size: file.size, blobId: file.blobId,
        ...(file.sha256 ? { lfs: { sha256: file.sha256, size: file.size, pointerSize: 134 } } : {}),
      }));
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ id: entry.repo.repoId, modelId: entry.repo.repoId, sha: commit, siblings }));
      return;
    }
    const file = entry.files.get(wanted);
    if (!file) return fail(response, 404, 'EntryNotFound', `${wanted} does not exist on "${revision}"`);
    if (file.sha256) {
      response.writeHead(302, {
        location: `${cdnEndpoint}/cdn/${file.sha256}?signature=test`,
        'x-repo-commit': commit, 'x-linked-size': String(file.size), 'x-linked-etag': `"${file.sha256}"`, etag: `"${file.blobId}"`,
      });
      response.end();
      return;
    }
    sendFile(request, response, file, { 'x-repo-commit': commit, etag: `"${file.blobId}"` });
  });
  const hubPort = await listen(hubServer);

  return {
    endpoint: `${scheme}://127.0.0.1:${hubPort}`,
    cdnEndpoint,
    requests,
    get faults() { return state.faults; },
    set faults(value: HubFaults) { state.faults = value; },
    files: new Map([...repos].map(([id, { files }]) => [id, files])),
    async close() {
      await Promise.all([closeServer(hubServer), closeServer(cdnServer)]);
    },
  };
}

function method(request: http.IncomingMessage): string {
  return request.method ?? 'GET';
}

export interface TestProxy {
  readonly url: string;
  /** "GET http://…" for forwarded requests, "CONNECT host:port" for tunnels. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** A minimal forward proxy: absolute-form http requests and CONNECT tunnels; optional Basic auth. */
export async function startProxy(options: { credentials?: string } = {}): Promise<TestProxy> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const authorized = (request: http.IncomingMessage) => !options.credentials
    || request.headers['proxy-authorization'] === `Basic ${Buffer.from(options.credentials).toString('base64')}`;
  const server = http.createServer((request, response) => {
    requests.push(`${method(request)} ${request.url}`);
    if (!authorized(request)) {
      response.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' });
      response.end();
      return;
    }
    const target = new URL(request.url ?? '');
    const headers = { ...request.headers };
    delete headers['proxy-authorization'];
    const upstream = http.request(target, { method: request.method, headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  server.on('connect', (request: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    requests.push(`CONNECT ${request.url}`);
    sockets.add(client);
    if (!authorized(request)) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
      return;
    }
    const [host, port] = (request.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const socket of sockets) socket.destroy();
      await closeServer(server);
    },
  };
}
