/**
 * @file HTTP(S) GET for the Hub downloader, with proxies, redirects, timeouts and cancellation, on node:http/https.
 *
 * Node 20's built-in fetch ignores proxy variables, which corporate networks need, hence this module:
 * - `HTTPS_PROXY`/`https_proxy` for https URLs and `HTTP_PROXY`/`http_proxy` for http URLs (lower case wins, as
 *   in curl), `NO_PROXY`/`no_proxy` (comma list; `*`; `.example.com`, `example.com` and `*.example.com` match the
 *   domain and its subdomains; `host:port` matches that port only);
 * - https through a proxy: a CONNECT tunnel, then TLS to the origin inside it (the proxy never sees the content
 *   or the Authorization header); http through a proxy: absolute-form requests;
 * - proxy credentials from the proxy URL (`http://user:pass@proxy:3128`) as Proxy-Authorization: Basic.
 * Redirects are followed (up to 10); the Authorization header is dropped when a redirect leaves the origin
 * (the Hub redirects LFS files to a CDN with a signed URL that needs no token).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';
import type { Duplex } from 'node:stream';

export interface HttpGetOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  /** Extra trusted CA certificates (PEM), e.g. a corporate proxy's; NODE_EXTRA_CA_CERTS also works. */
  readonly ca?: string | Buffer;
  /** Abort when the connection is idle this long (default 60 s). */
  readonly idleTimeoutMs?: number;
  /** Proxy variables come from here (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  readonly maxRedirects?: number;
  /** HEAD instead of GET. */
  readonly method?: 'GET' | 'HEAD';
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The final URL after redirects. */
  readonly url: string;
  /** The body stream: consume it or call `discard()`. */
  readonly body: http.IncomingMessage;
  discard(): void;
}

/** A transport failure (refused, reset, timed out, dropped mid-body): worth retrying, unlike an HTTP status. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name.toLowerCase()] ?? env[name.toUpperCase()];
  return value !== undefined && value.trim() !== '' ? value.trim() : undefined;
}

function defaultPort(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/** True when NO_PROXY says this URL must be fetched directly. */
export function bypassesProxy(url: URL, env: NodeJS.ProcessEnv): boolean {
  const noProxy = envValue(env, 'no_proxy');
  if (!noProxy) return false;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = defaultPort(url);
  return noProxy.split(/[\s,]+/).filter(Boolean).some((raw) => {
    if (raw === '*') return true;
    let entry = raw.toLowerCase();
    let entryPort: number | undefined;
    const portMatch = /^(.*):(\d+)$/.exec(entry);
    if (portMatch && !entry.includes(']') && (entry.match(/:/g)?.length ?? 0) === 1) {
      entry = portMatch[1];
      entryPort = Number(portMatch[2]);
    }
    entry = entry.replace(/^\*?\./, '').replace(/^\[|\]$/g, '');
    if (entryPort !== undefined && entryPort !== port) return false;
    return host === entry || host.endsWith(`.${entry}`);
  });
}

/** The proxy to use for a URL, or undefined for a direct connection. */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const raw = url.protocol === 'https:' ? envValue(env, 'https_proxy') : envValue(env, 'http_proxy');
  if (!raw || bypassesProxy(url, env)) return undefined;
  let proxy: URL;
  try {
    proxy = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new NetworkError(`The proxy setting "${raw}" is not a URL`);
  }
  if (proxy.protocol !== 'http:') throw new NetworkError(`Only http:// proxies are supported (got ${proxy.protocol}//${proxy.host})`);
  return proxy;
}

function proxyAuthorization(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}` };
}

function networkError(error: unknown, url: URL, proxy: URL | undefined): NetworkError {
  const code = (error as NodeJS.ErrnoException).code;
  const via = proxy ? ` via proxy ${proxy.host}` : '';
  return new NetworkError(`${url.host}${via}: ${(error as Error).message}`, code);
}

/** Open a CONNECT tunnel through `proxy` to the origin of `url`. */
function connectTunnel(url: URL, proxy: URL, signal: AbortSignal | undefined, timeoutMs: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const authority = `${url.hostname}:${defaultPort(url)}`;
    const request = http.request({
      host: proxy.hostname,
      port: defaultPort(proxy),
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...proxyAuthorization(proxy) },
      signal,
      timeout: timeoutMs,
    });
    request.on('connect', (response, socket) => {
      if (response.statusCode !== 200) {
        socket.destroy();
        reject(new NetworkError(`proxy ${proxy.host} refused CONNECT to ${authority}: HTTP ${response.statusCode ?? '?'}` +
          (response.statusCode === 407 ? ' (proxy authentication required: put credentials in the proxy URL)' : '')));
        return;
      }
      resolve(socket);
    });
    request.on('timeout', () => request.destroy(new NetworkError(`proxy ${proxy.host}: CONNECT timed out`, 'ETIMEDOUT')));
    request.on('error', (error) => reject(error instanceof NetworkError ? error : networkError(error, url, proxy)));
    request.end();
  });
}

async function requestOnce(url: URL, headers: Record<string, string>, options: HttpGetOptions): Promise<http.IncomingMessage> {
  const env = options.env ?? process.env;
  const proxy = proxyFor(url, env);
  const timeoutMs = options.idleTimeoutMs ?? 60_000;
  const method = options.method ?? 'GET';
  const base: https.RequestOptions = { method, headers, signal: options.signal, timeout: timeoutMs, ca: options.ca };
  let request: http.ClientRequest;
  if (proxy && url.protocol === 'https:') {
    const socket = await connectTunnel(url, proxy, options.signal, timeoutMs);
    request = https.request(url, {
      ...base,
      agent: false,
      createConnection: () => tls.connect({ socket, servername: url.hostname, ca: options.ca }),
    });
  } else if (proxy) {
    request = http.request({
      ...base,
      host: proxy.hostname,
      port: defaultPort(proxy),
      path: url.href,
      headers: { ...headers, host: url.host, ...proxyAuthorization(proxy) },
    });
  } else {
    request = (url.protocol === 'https:' ? https : http).request(url, base);
  }
  return new Promise((resolve, reject) => {
    let received: http.IncomingMessage | undefined;
    request.on('response', (response) => {
      received = response;
      resolve(response);
    });
    // The request's socket timeout stays armed while the body is read: an idle transfer is cut off too, and the
    // body stream then fails with this (retryable) error.
    request.on('timeout', () => {
      const error = new NetworkError(`${url.host}: connection idle for ${timeoutMs} ms`, 'ETIMEDOUT');
      received?.destroy(error);
      request.destroy(error);
    });
    request.on('error', (error) => {
      if (options.signal?.aborted) reject(options.signal.reason ?? error);
      else reject(error instanceof NetworkError ? error : networkError(error, url, proxy));
    });
    request.end();
  });
}

/** GET (or HEAD) a URL, following redirects. Non-2xx statuses are returned, not thrown. */
export async function httpGet(target: string, options: HttpGetOptions = {}): Promise<HttpResponse> {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new NetworkError(`${JSON.stringify(target)} is not a URL`, 'EINVAL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new NetworkError(`${url.href}: only http and https URLs are supported`, 'EPROTO');
  const origin = url.origin;
  let headers: Record<string, string> = { 'user-agent': 'spacetime-probe', ...lowerCaseKeys(options.headers ?? {}) };
  const maxRedirects = options.maxRedirects ?? 10;
  for (let redirects = 0; ; redirects += 1) {
    options.signal?.throwIfAborted();
    const response = await requestOnce(url, headers, options);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if ([301, 302, 303, 307, 308].includes(status) && location) {
      response.resume();
      if (redirects >= maxRedirects) throw new NetworkError(`${target}: more than ${maxRedirects} redirects`);
      const next = new URL(location, url);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new NetworkError(`${url.href} redirected to ${next.protocol}// (only http and https redirects are followed); refusing it`, 'EPROTO');
      }
      if (next.origin !== origin && headers.authorization !== undefined) {
        const { authorization: _dropped, ...rest } = headers;
        headers = rest;
      }
      url = next;
      continue;
    }
    return { status, headers: response.headers, url: url.href, body: response, discard: () => { response.resume(); } };
  }
}

function lowerCaseKeys(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([key, value]) => [key.toLowerCase(), value]));
}

/** Read a whole (small) body as text. */
export async function readBodyText(response: HttpResponse, limitBytes = 64 * 1024 * 1024): Promise<string> {
  const parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of response.body) {
    const buffer = chunk as Buffer;
    length += buffer.length;
    if (length > limitBytes) {
      response.body.destroy();
      throw new NetworkError(`${response.url}: response larger than ${limitBytes} bytes`);
    }
    parts.push(buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}
