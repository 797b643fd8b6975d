import { Pool } from 'undici';
import { BrookError } from '@brook/types';

export interface RequestOptions {
  timeoutMs?: number;
  /** Sent as is when the body is a Buffer. */
  contentType?: string;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  /** Ends the request early; the call then fails with REQUEST_TIMED_OUT. */
  signal?: AbortSignal;
}

/**
 * JSON over a keep-alive connection pool (undici), for calls between Brook processes. Any non-2xx answer
 * becomes the BrookError the other side sent, so errors pass through services unchanged; an unreachable
 * peer is BROKER_NOT_AVAILABLE.
 */
export class HttpJsonClient {
  private readonly pool: Pool;

  constructor(
    readonly baseUrl: string,
    options: { connections?: number } = {},
  ) {
    this.pool = new Pool(baseUrl, {
      connections: options.connections ?? 8,
      keepAliveTimeout: 60_000,
      pipelining: 1,
    });
  }

  get<T>(path: string, options?: RequestOptions): Promise<T> {
    return this.request<T>('GET', path, undefined, options);
  }

  post<T>(path: string, body: unknown, options?: RequestOptions): Promise<T> {
    return this.request<T>('POST', path, body, options);
  }

  delete<T>(path: string, options?: RequestOptions): Promise<T> {
    return this.request<T>('DELETE', path, undefined, options);
  }

  /** POSTs JSON and answers the raw body: for binary answers such as replica fetches. */
  async postForBuffer(path: string, body: unknown, options: RequestOptions = {}): Promise<Buffer> {
    const { statusCode, body: answer } = await this.send('POST', path, body, options);
    const bytes = Buffer.from(await answer.arrayBuffer());
    if (statusCode >= 400) throw BrookError.fromBody(parseJson(bytes.toString('utf8')), statusCode);
    return bytes;
  }

  async request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, body, options);
    const parsed = parseJson(await res.body.text());
    if (res.statusCode >= 400) throw BrookError.fromBody(parsed, res.statusCode);
    return parsed as T;
  }

  private async send(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body: unknown, options: RequestOptions) {
    const timeout = options.timeoutMs ?? 10_000;
    const isBinary = Buffer.isBuffer(body);
    let res;
    try {
      res = await this.pool.request({
        method,
        path: withQuery(path, options.query),
        headers: {
          ...options.headers,
          ...(body === undefined
            ? {}
            : { 'content-type': isBinary ? (options.contentType ?? 'application/octet-stream') : 'application/json' }),
        },
        body: body === undefined ? undefined : isBinary ? (body as Buffer) : JSON.stringify(body),
        headersTimeout: timeout,
        bodyTimeout: timeout,
        signal: options.signal,
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'UND_ERR_ABORTED' || (err as Error).name === 'AbortError') {
        throw new BrookError('REQUEST_TIMED_OUT', `${method} ${path} to ${this.baseUrl} was abandoned`);
      }
      if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
        throw new BrookError('REQUEST_TIMED_OUT', `${this.baseUrl} did not answer ${method} ${path} within ${timeout} ms`);
      }
      throw new BrookError('BROKER_NOT_AVAILABLE', `cannot reach ${this.baseUrl}: ${(err as Error).message}`);
    }
    return res;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function withQuery(path: string, query?: Record<string, string | number | undefined>): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}
