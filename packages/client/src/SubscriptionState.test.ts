import { SubscriptionState } from './SubscriptionState';

describe('SubscriptionState', () => {
  const a0 = { topic: 'a', partition: 0 };
  const a1 = { topic: 'a', partition: 1 };

  test('assign answers what was added and removed; new partitions need a position before they are fetched', () => {
    const subs = new SubscriptionState();
    expect(subs.assign([a0, a1])).toEqual({ added: [a0, a1], removed: [] });
    expect(subs.fetchable()).toEqual([]);
    expect(subs.needingPosition().map((s) => s.partition)).toEqual([0, 1]);
    subs.seek({ ...a0, offset: 5 });
    expect(subs.fetchable().map((s) => [s.partition, s.fetchOffset])).toEqual([[0, 5]]);
    expect(subs.assign([a1, { topic: 'b', partition: 0 }])).toEqual({ added: [{ topic: 'b', partition: 0 }], removed: [a0] });
  });

  test('seek drops what was fetched before (new epoch) and moves position, processed and fetch offset', () => {
    const subs = new SubscriptionState();
    subs.assign([a0]);
    subs.seek({ ...a0, offset: 10 });
    const s = subs.require(a0);
    s.fetchOffset = 50;
    s.buffered = 2;
    const epoch = s.epoch;
    subs.seek({ ...a0, offset: 3 });
    expect([s.position, s.processed, s.fetchOffset, s.buffered, s.epoch]).toEqual([3, 3, 3, 0, epoch + 1]);
    expect(() => subs.seek({ ...a0, offset: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_OFFSET' }));
    expect(() => subs.seek({ ...a1, offset: 0 })).toThrow(/not assigned/);
  });

  test('paused partitions are not fetched and restart from their position; prefetch is bounded', () => {
    const subs = new SubscriptionState(2);
    subs.assign([a0, a1]);
    subs.seek({ ...a0, offset: 0 });
    subs.seek({ ...a1, offset: 0 });
    const s0 = subs.require(a0);
    s0.position = 7;
    s0.fetchOffset = 20;
    subs.pause([a0]);
    expect(subs.paused()).toEqual([a0]);
    expect(subs.fetchable().map((s) => s.partition)).toEqual([1]);
    subs.resume([a0]);
    expect(s0.fetchOffset).toBe(7);
    const s1 = subs.require(a1);
    s1.buffered = 2;
    expect(subs.fetchable().map((s) => s.partition)).toEqual([0]);
    s0.fetching = true;
    expect(subs.fetchable()).toEqual([]);
  });

  test('delivered and processed positions are committed separately; revoked partitions stay committable until reassigned', () => {
    const subs = new SubscriptionState();
    subs.assign([a0, a1]);
    subs.seek({ ...a0, offset: 4 });
    subs.require(a0).position = 9; // handed out up to 8, processed up to 3
    expect(subs.committable('delivered')).toEqual([{ ...a0, offset: 9 }]);
    expect(subs.committable('processed')).toEqual([{ ...a0, offset: 4 }]);
    subs.markAllProcessed();
    expect(subs.committable('processed', [a0])).toEqual([{ ...a0, offset: 9 }]);
    subs.revoke([a0]);
    expect(subs.fetchable()).toEqual([]);
    expect(subs.committable('processed', [a0])).toEqual([{ ...a0, offset: 9 }]);
    expect(subs.assign([a0, a1]).added).toEqual([a0]); // a revoked partition given back starts afresh
    expect(subs.require(a0).position).toBeUndefined();
  });
});
