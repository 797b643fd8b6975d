import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler } from 'express';
import { BrookError } from '@brook/types';
import type { Logger } from './logger';

export interface AppOptions {
  logger: Logger;
  /** Largest request body accepted, in bytes. */
  bodyLimit: number;
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
  app.use(
    express.json({
      limit: options.bodyLimit,
      strict: false,
      type: (req) => !BINARY_TYPES.test(String(req.headers['content-type'] ?? '')),
    }),
  );
  return app;
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
  return (err, req, res, _next) => {
    const e = toBrookError(err);
    if (e.code === 'INTERNAL') logger.error({ err, method: req.method, path: req.path }, 'request failed');
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(e.status).json(e.toBody());
  };
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
  const server = http.createServer(app);
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
