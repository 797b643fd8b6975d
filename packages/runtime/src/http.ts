import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler, type Router } from 'express';
import { BrookError } from '@brook/types';
import type { Logger } from './logger';

export interface AppOptions {
  logger: Logger;
  /** Largest request body accepted, in bytes. */
  bodyLimit: number;
  /** Served by `listen` ahead of express; see HotRoutes. */
  hotRoutes?: HotRoutes;
}

/** Content types that carry Brook's binary formats and must not go through the JSON parser. */
const BINARY_TYPES = /^application\/(octet-stream|vnd\.brook\.)/;

/**
 * The express shell every Brook service starts from: JSON bodies (whatever content type a curl user
 * sends, since `curl -d` says form-urlencoded), paths with or without a trailing slash, and routes mounted
 * by the caller. Call `finishApp` after mounting routes to add the 404 and error handlers.
 */
export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  if (options.hotRoutes) hotRoutesOf.set(app, options.hotRoutes);
  app.use(jsonBodies(options.bodyLimit));
  return app;
}

/** A route's work once its body is read: parsed JSON for JSON routes, the bytes for binary ones. */
export type BodyHandler<B> = (req: http.IncomingMessage, res: http.ServerResponse, body: B) => Promise<void>;

/** The hot routes of an app made by createApp, which `listen` serves ahead of it. */
const hotRoutesOf = new WeakMap<Express, HotRoutes>();

/**
 * POST routes that brokers call hundreds of times a second (produce, replica and consumer fetches). The
 * common request (exact path, the route's content type, a Content-Length within the limit, no
 * Content-Encoding) is answered before express sees it: express swaps the prototypes of every request
 * and response, which sends V8's property lookups down the slow path, and walks its router and body
 * parsers, together costing as much per request as the work itself. The body is read straight into one
 * buffer. Every other request (another spelling of the path, a compressed or chunked body, another
 * content type) goes to the same handler mounted on the router the ordinary way, so both give the same
 * answers and errors.
 */
export class HotRoutes {
  private readonly routes = new Map<string, { contentType: string; handle: BodyHandler<Buffer> }>();

  constructor(
    private readonly limit: number,
    private readonly logger: Logger,
  ) {}

  /** A JSON route: `handle` gets the body as express.json would give it. */
  json(router: Router, path: string, handle: BodyHandler<unknown>): void {
    this.routes.set(path, { contentType: 'application/json', handle: (req, res, body) => handle(req, res, parseJsonBody(body)) });
    router.post(path, (req, res) => handle(req, res, req.body));
  }

  /** A binary route: `handle` gets the raw body, empty when the request has another content type. */
  binary(router: Router, path: string, contentType: string, handle: BodyHandler<Buffer>): void {
    this.routes.set(path, { contentType, handle });
    router.post(path, express.raw({ type: contentType, limit: this.limit }), (req, res) =>
      handle(req, res, Buffer.isBuffer(req.body) ? req.body : EMPTY),
    );
  }

  /** Answers `req` if it is a hot route's common request; false leaves it to express. */
  serve(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    if (req.method !== 'POST') return false;
    const url = req.url!;
    const query = url.indexOf('?');
    const route = this.routes.get(query < 0 ? url : url.slice(0, query));
    const length = Number(req.headers['content-length']);
    if (
      route === undefined ||
      req.headers['content-type'] !== route.contentType ||
      !(length >= 0 && length <= this.limit) ||
      req.headers['transfer-encoding'] !== undefined ||
      req.headers['content-encoding'] !== undefined
    ) {
      return false;
    }
    const fail = (err: unknown) => sendError(req, res, err, this.logger);
    readBody(req, length, (err, body) => {
      if (err) return fail(err);
      try {
        route.handle(req, res, body!).catch(fail);
      } catch (e) {
        fail(e);
      }
    });
    return true;
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * A 200 answer of `chunks` in one gathered socket write (headers included), without express's res.send
 * (content-type lookups, freshness checks): for the hot routes.
 */
export function sendChunks(res: http.ServerResponse, contentType: string, chunks: readonly Buffer[]): void {
  let length = 0;
  for (const c of chunks) length += c.length;
  res.writeHead(200, { 'content-type': contentType, 'content-length': length });
  res.cork(); // end() uncorks fully
  for (let i = 0; i < chunks.length - 1; i++) res.write(chunks[i]);
  res.end(chunks[chunks.length - 1]);
}

/**
 * A body of `length` bytes (its Content-Length, which node's parser holds the request to) as one buffer:
 * the chunk itself when it came whole, else the chunks copied into one allocation of the right size.
 */
function readBody(req: http.IncomingMessage, length: number, done: (err: Error | undefined, body?: Buffer) => void): void {
  let body: Buffer | undefined;
  let filled = 0;
  req.on('data', (chunk: Buffer) => {
    if (filled === 0 && chunk.length === length) body = chunk;
    else {
      body ??= Buffer.allocUnsafe(length);
      chunk.copy(body, filled);
    }
    filled += chunk.length;
  });
  req.once('error', (err) => done(Object.assign(err, { status: 400, type: 'request.aborted' })));
  req.once('end', () => done(undefined, body ?? EMPTY));
}

/** JSON as body-parser reads it: a BOM is dropped, an empty body is {} (a common client-side slip). */
function parseJsonBody(bytes: Buffer): unknown {
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return text.length === 0 ? {} : JSON.parse(text);
  } catch (err) {
    throw Object.assign(err as Error, { status: 400, type: 'entity.parse.failed' });
  }
}

/** A content type without parameters, or with only `charset=utf-8`: a body that is plain UTF-8. */
const PLAIN_UTF8_TYPE = /^[\w.+-]+\/[\w.+-]+(\s*;\s*charset\s*=\s*"?utf-8"?)?\s*$/i;

/**
 * JSON bodies. The common request (a Content-Length within the limit, no Content-Encoding, UTF-8) is read
 * here straight into one buffer for JSON.parse: body-parser's per-chunk decoding and stream plumbing cost
 * as much as the parse on the produce hot path. Everything else (compressed or chunked bodies, other
 * charsets, bodies over the limit) goes to express.json, whose errors `toBrookError` maps; the errors
 * raised here carry the same `type`s.
 */
function jsonBodies(limit: number): RequestHandler {
  const parseJson = express.json({ limit, strict: false, type: () => true });
  return (req, res, next) => {
    const contentType = req.headers['content-type'];
    if (contentType !== undefined && BINARY_TYPES.test(contentType)) return next();
    const length = Number(req.headers['content-length']);
    const encoding = req.headers['content-encoding'];
    if (
      !(length >= 0 && length <= limit) ||
      req.headers['transfer-encoding'] !== undefined ||
      (encoding !== undefined && encoding.toLowerCase() !== 'identity') ||
      (contentType !== undefined && !PLAIN_UTF8_TYPE.test(contentType))
    ) {
      parseJson(req, res, next);
      return;
    }
    readBody(req, length, (err, body) => {
      if (err) return next(err);
      try {
        req.body = parseJsonBody(body!);
      } catch (e) {
        next(e);
        return;
      }
      next();
    });
  };
}

export function finishApp(app: Express, logger: Logger): Express {
  app.use(((req, _res, next) => {
    next(new BrookError('NOT_FOUND', `no route for ${req.method} ${req.path}`));
  }) as RequestHandler);
  app.use(errorHandler(logger));
  return app;
}

/** Maps every error to the one error shape (DESIGN §6); only unexpected errors are logged with a stack. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => sendError(req, res, err, logger);
}

function sendError(req: http.IncomingMessage, res: http.ServerResponse, err: unknown, logger: Logger): void {
  const e = toBrookError(err);
  if (e.code === 'INTERNAL') logger.error({ err, method: req.method, path: req.url!.split('?')[0] }, 'request failed');
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify(e.toBody());
  res.writeHead(e.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function toBrookError(err: unknown): BrookError {
  if (err instanceof BrookError) return err;
  const e = err as { type?: string; status?: number; message?: string };
  switch (e?.type) {
    case 'entity.parse.failed':
      return new BrookError('INVALID_JSON', `request body is not valid JSON: ${e.message}`);
    case 'entity.too.large':
      return new BrookError('PAYLOAD_TOO_LARGE', 'request body is larger than the limit');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new BrookError('UNSUPPORTED_MEDIA_TYPE', String(e.message));
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return new BrookError('INVALID_REQUEST', String(e.message ?? 'bad request'));
  }
  return new BrookError('INTERNAL', 'internal error');
}

/** Path and query parameters as one plain object, for validating with a zod schema. */
export function requestParams(req: Request): Record<string, unknown> {
  return { ...(req.query as Record<string, unknown>), ...req.params };
}

export interface ListeningServer {
  server: http.Server;
  port: number;
  close(): Promise<void>;
}

/**
 * Listens on `host`. The default, all interfaces, is tried as dual-stack `::` first because `localhost`
 * resolves to ::1 first on many machines; where IPv6 is off it falls back to 0.0.0.0.
 */
export async function listen(app: Express, port: number, host = '0.0.0.0'): Promise<ListeningServer> {
  const hot = hotRoutesOf.get(app);
  const server = http.createServer(hot ? (req, res) => hot.serve(req, res) || app(req, res) : app);
  // Longer than the clients' keep-alive so a pooled connection is never closed under a request.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const bind = (address: string) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, address, () => {
        server.off('error', reject);
        resolve();
      });
    });
  if (host === '0.0.0.0') {
    await bind('::').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') throw err;
      return bind('0.0.0.0');
    });
  } else {
    await bind(host);
  }
  const actualPort = (server.address() as AddressInfo).port;
  return {
    server,
    port: actualPort,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
