import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler } from 'express';
import { BrookError } from '@brook/types';
import type { HotRoutes } from './HotRoutes';
import type { Logger } from './logger';
import { parseJsonBody, readBody } from './RequestBody';

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

/** The hot routes of an app made by createApp, which `listen` serves ahead of it. */
const hotRoutesOf = new WeakMap<Express, HotRoutes>();

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

/** Writes `err` in the one error shape, without express (the hot routes use it too). */
export function sendError(req: http.IncomingMessage, res: http.ServerResponse, err: unknown, logger: Logger): void {
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
