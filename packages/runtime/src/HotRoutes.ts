import type http from 'node:http';
import express, { type Router } from 'express';
import { sendError } from './http';
import type { Logger } from './logger';
import { parseJsonBody, readBody } from './RequestBody';

/** A route's work once its body is read: parsed JSON for JSON routes, the bytes for binary ones. */
export type BodyHandler<B> = (req: http.IncomingMessage, res: http.ServerResponse, body: B) => Promise<void>;

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
