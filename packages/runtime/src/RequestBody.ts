import type http from 'node:http';

const EMPTY = Buffer.alloc(0);

/**
 * A body of `length` bytes (its Content-Length, which node's parser holds the request to) as one buffer:
 * the chunk itself when it came whole, else the chunks copied into one allocation of the right size.
 */
export function readBody(req: http.IncomingMessage, length: number, done: (err: Error | undefined, body?: Buffer) => void): void {
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
export function parseJsonBody(bytes: Buffer): unknown {
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return text.length === 0 ? {} : JSON.parse(text);
  } catch (err) {
    throw Object.assign(err as Error, { status: 400, type: 'entity.parse.failed' });
  }
}
