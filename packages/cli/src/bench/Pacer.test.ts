import { Pacer } from './Pacer';

describe('Pacer', () => {
  test('hands out one record at first, then records at the rate', async () => {
    const pacer = new Pacer(2000);
    const startedAt = performance.now();
    expect(await pacer.due(100)).toBe(1);
    let sent = 1;
    while (sent < 100) sent += await pacer.due(100 - sent);
    expect(sent).toBe(100);
    // 100 records at 2000/s: the last is due 49.5 ms after the first.
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(45);
  });
});
