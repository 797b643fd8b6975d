import { parseOutcome as outcome } from '../testing/parseOutcome';
import { parseInput } from '../validation';
import {
  EventsProduceRequest,
  parseEventsProduceRequest,
  parseRestProxyProduceRequest,
  ProduceRecord,
  RestProxyProduceRequest,
} from './broker';

describe('produce bodies checked without zod on the hot path', () => {
  const tooLongKey = 'k'.repeat(1024 * 1024 + 1);
  const eventsBodies: unknown[] = [
    { topic: 't', records: [{ value: 1 }, { key: 'k', value: { a: [1, 'é'] }, partition: 2, timestamp: 5 }, { key: 7, value: null }] },
    { topic: 't', records: [{ value: 1, key: null, extra: true }], extra: 1, acks: -1, producer_id: 3, producer_epoch: 1, sequence: 9 },
    { topic: 't', records: [{ value: 'h', headers: { trace: 'abc' } }] },
    { topic: 't', records: [] },
    { topic: 't', records: [{}] },
    { topic: 't', records: [{ value: 1, partition: -1 }] },
    { topic: 't', records: [{ value: 1, partition: 1.5 }] },
    { topic: 't', records: [{ value: 1, partition: 2 ** 60 }] },
    { topic: 't', records: [{ value: 1, timestamp: -1 }] },
    { topic: 't', records: [{ value: 1, key: { a: 1 } }] },
    { topic: 't', records: [{ value: 1, key: true }] },
    { topic: 't', records: [{ value: 1, key: tooLongKey }] },
    { topic: 't', records: [[1]] },
    { topic: 't', records: [null] },
    { topic: 't', records: [{ value: 1 }], acks: 7 },
    { topic: '..', records: [{ value: 1 }] },
    { records: [{ value: 1 }] },
    // A bad batch beside a valid single record: the schema's union takes the single record.
    { topic: 't', records: [{ partition: -1 }], value: 2 },
    { topic: 't', records: 'x', value: 2 },
    { topic: 't', value: 1, partition: 0 },
    null,
    'text',
    [1],
  ];

  test.each(eventsBodies.map((b) => [JSON.stringify(b)?.slice(0, 80), b]))('POST /events %s', (_name, body) => {
    const fast = outcome(() => parseEventsProduceRequest(body));
    const schema = outcome(() => parseInput(EventsProduceRequest, body));
    // The fast path leaves records as they came (zod strips unknown fields); the route reads known fields only.
    const known = (r: { ok?: { records?: unknown[] } }) =>
      r.ok?.records ? { ok: { ...r.ok, records: r.ok.records.map((x) => ProduceRecord.parse(x)) } } : r;
    expect(known(fast as never)).toEqual(schema);
  });

  const restProxyBodies: unknown[] = [
    { records: [{ value: 1 }, { key: { a: 1 }, value: [1], partition: 3 }] },
    { records: [{ value: null, extra: 1 }], extra: 2 },
    { records: [] },
    { records: [{}] },
    { records: [{ value: 1, partition: -1 }] },
    { records: [[1]] },
    { records: 'x' },
    null,
  ];

  test.each(restProxyBodies.map((b) => [JSON.stringify(b), b]))('REST Proxy %s', (_name, body) => {
    const fast = outcome(() => parseRestProxyProduceRequest(body)) as { ok?: { records: Record<string, unknown>[] } };
    const schema = outcome(() => parseInput(RestProxyProduceRequest, body));
    const known = fast.ok ? { ok: { records: fast.ok.records.map(({ key, value, partition }) => ({ key, value, partition })) } } : fast;
    expect(JSON.parse(JSON.stringify(known))).toEqual(JSON.parse(JSON.stringify(schema)));
  });
});
