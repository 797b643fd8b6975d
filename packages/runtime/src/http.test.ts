import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import request from 'supertest';
import { BrookError } from '@brook/types';
import { Router } from 'express';
import { HotRoutes, sendChunks } from './HotRoutes';
import { createApp, finishApp, listen } from './http';
import { createLogger } from './logger';

describe('the express shell', () => {
  const logger = createLogger('test', 'silent');
  const app = createApp({ logger, bodyLimit: 100 });
  app.post('/echo', (req, res) => {
    res.json({ got: req.body });
  });
  app.get('/missing', () => {
    throw new BrookError('UNKNOWN_TOPIC', 'no such topic', { topic: 'x' });
  });
  app.get('/boom', () => {
    throw new Error('secret internals');
  });
  finishApp(app, logger);

  test('parses JSON whatever content type curl sends, with or without a trailing slash', async () => {
    const res = await request(app).post('/echo/').set('content-type', 'application/x-www-form-urlencoded').send('{"a":1}');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ got: { a: 1 } });
  });

  test('maps errors to the one shape with the right status', async () => {
    expect((await request(app).get('/missing')).body).toEqual({ error: { code: 'UNKNOWN_TOPIC', message: 'no such topic', topic: 'x' } });
    expect((await request(app).get('/missing')).status).toBe(404);
    const bad = await request(app).post('/echo').set('content-type', 'application/json').send('{"a":');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('INVALID_JSON');
    const big = await request(app).post('/echo').set('content-type', 'application/json').send(JSON.stringify({ a: 'x'.repeat(200) }));
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const nowhere = await request(app).get('/nowhere');
    expect(nowhere.status).toBe(404);
    expect(nowhere.body.error.code).toBe('NOT_FOUND');
  });

  /** A POST sent with node:http, so the headers and body bytes are exactly these (chunked when no length). */
  function rawPost(headers: Record<string, string | number>, parts: (string | Buffer)[]): Promise<{ status: number; body: unknown }> {
    return new Promise((resolve, reject) => {
      const server = app.listen(0, () => {
        const { port } = server.address() as AddressInfo;
        const req = http.request({ port, method: 'POST', path: '/echo', headers }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => server.close(() => resolve({ status: res.statusCode!, body: JSON.parse(text) })));
        });
        req.on('error', reject);
        for (const part of parts) req.write(part);
        req.end();
      });
    });
  }

  test('reads bodies like body-parser: empty is {}, a BOM is dropped, any JSON value, and the rest falls back to it', async () => {
    const post = (body: string, type = 'application/json') => request(app).post('/echo').set('content-type', type).send(body);
    expect((await post('')).body).toEqual({ got: {} });
    expect((await post('\ufeff{"a":"é"}')).body).toEqual({ got: { a: 'é' } });
    expect((await post('"text"')).body).toEqual({ got: 'text' });
    expect((await post('[1]', 'application/json; charset=UTF-8')).body).toEqual({ got: [1] });
    // Not plain UTF-8 with a length: body-parser decides, as before.
    const gzipped = zlib.gzipSync('{"z":1}');
    const json = 'application/json';
    expect(await rawPost({ 'content-type': json, 'content-encoding': 'gzip', 'content-length': gzipped.length }, [gzipped])).toEqual({ status: 200, body: { got: { z: 1 } } });
    expect(await rawPost({ 'content-type': json }, ['{"c":', '2}'])).toEqual({ status: 200, body: { got: { c: 2 } } });
    const latin1 = await post('{}', 'application/json; charset=latin1');
    expect(latin1.status).toBe(415);
    expect(latin1.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  test('an unexpected error is a 500 without its message or stack', async () => {
    const res = await request(app).get('/boom');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
  });
});

describe('hot routes', () => {
  const logger = createLogger('test', 'silent');
  const hotRoutes = new HotRoutes(100, logger);
  const app = createApp({ logger, bodyLimit: 100, hotRoutes });
  const router = Router();
  hotRoutes.json(router, '/echo', async (req, res, body) => {
    if ((body as { fail?: boolean }).fail) throw new BrookError('UNKNOWN_TOPIC', 'no such topic', { topic: 'x' });
    sendChunks(res, 'application/json; charset=utf-8', [Buffer.from(JSON.stringify({ got: body, url: req.url }))]);
  });
  hotRoutes.binary(router, '/bytes', 'application/vnd.brook.test', async (_req, res, body) => {
    sendChunks(res, 'application/octet-stream', [Buffer.from('<'), body, Buffer.from('>')]);
  });
  app.use(router);
  finishApp(app, logger);

  /** The same request through `listen` (hot path) and through the express app alone (the router). */
  async function both(path: string, headers: Record<string, string>, body: string | Buffer) {
    const server = await listen(app, 0, '127.0.0.1');
    try {
      const hot = await fetch(`http://127.0.0.1:${server.port}${path}`, { method: 'POST', headers, body });
      const viaExpress = await request(app)
        .post(path)
        .set(headers)
        .send(body)
        .buffer(true)
        .parse((res, done) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => done(null, Buffer.concat(chunks)));
        });
      return {
        hot: { status: hot.status, type: hot.headers.get('content-type'), body: Buffer.from(await hot.arrayBuffer()).toString('latin1') },
        express: { status: viaExpress.status, type: viaExpress.headers['content-type'], body: (viaExpress.body as Buffer).toString('latin1') },
      };
    } finally {
      await server.close();
    }
  }

  test('answer as the express routes do: bodies, errors and limits', async () => {
    const cases: Array<[string, Record<string, string>, string | Buffer]> = [
      ['/echo?x=1', { 'content-type': 'application/json' }, '{"a":[1,"é"]}'],
      ['/echo', { 'content-type': 'application/json' }, ''],
      ['/echo', { 'content-type': 'application/json' }, '\ufeff"text"'],
      ['/echo', { 'content-type': 'application/json' }, '{"a":'],
      ['/echo', { 'content-type': 'application/json' }, '{"fail":true}'],
      ['/echo', { 'content-type': 'application/json' }, JSON.stringify({ a: 'x'.repeat(200) })],
      ['/bytes', { 'content-type': 'application/vnd.brook.test' }, Buffer.from([0, 1, 2, 255])],
      ['/bytes', { 'content-type': 'application/vnd.brook.test' }, Buffer.alloc(101)],
    ];
    for (const [path, headers, body] of cases) {
      const { hot, express } = await both(path, headers, body);
      expect(hot).toEqual(express);
    }
  });
});
