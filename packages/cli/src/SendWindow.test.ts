import { SendWindow } from './SendWindow';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('SendWindow', () => {
  test('room waits while the window is full and resumes at half of it; acks reach onAck', async () => {
    const window = new SendWindow(4);
    const sends = Array.from({ length: 4 }, () => deferred<number>());
    const acked: number[] = [];
    for (const s of sends) window.track(s.promise, (n) => acked.push(n));
    let roomy = false;
    const room = window.room().then(() => (roomy = true));
    sends[0]!.resolve(0);
    await Promise.resolve();
    await new Promise((r) => setImmediate(r));
    expect(roomy).toBe(false); // 3 outstanding, waits for 2
    sends[1]!.resolve(1);
    await room;
    expect(acked).toEqual([0, 1]);
    sends[2]!.resolve(2);
    sends[3]!.resolve(3);
    await window.drained();
    expect(acked).toEqual([0, 1, 2, 3]);
  });

  test('a failed send rejects the waiting call and every later one', async () => {
    const window = new SendWindow(1);
    const s = deferred<number>();
    window.track(s.promise, () => undefined);
    const room = window.room();
    s.reject(new Error('NOT_ENOUGH_REPLICAS'));
    await expect(room).rejects.toThrow('NOT_ENOUGH_REPLICAS');
    await expect(window.drained()).rejects.toThrow('NOT_ENOUGH_REPLICAS');
  });
});
