import request from 'supertest';
import { BrookError } from '@brook/types';
import { createApp, finishApp } from './http';
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

  test('an unexpected error is a 500 without its message or stack', async () => {
    const res = await request(app).get('/boom');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
  });
});
