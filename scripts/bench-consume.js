#!/usr/bin/env node
/**
 * Consume benchmark over the group protocol and the JSON read route, as an HTTP client would do it:
 * members join a group (KIP-848 heartbeat), read their assigned partitions from the leaders, and commit.
 * Measures records/s for 1 and for 3 members reading the same topic from the beginning, then the
 * rebalance time after a member dies: from its last heartbeat until the others own every partition.
 *
 *   node scripts/bench-consume.js [--records 300000] [--value-bytes 100] [--partitions 6] [--session-timeout-ms 3000]
 */
const { json, until, startCluster, writeResult } = require('./lib/cluster');
const { parseFlags } = require('./lib/flags');

const DEFAULTS = { records: 300000, valueBytes: 100, partitions: 6, sessionTimeoutMs: 3000 };

class Member {
  constructor(cluster, ports, group, topic) {
    Object.assign(this, { cluster, ports, group, topic, memberId: undefined, memberEpoch: 0, assignment: [] });
  }
  async heartbeat() {
    const res = await json(this.cluster.broker(this.ports[0]), 'POST', `/groups/${this.group}/heartbeat`, {
      memberId: this.memberId,
      memberEpoch: this.memberEpoch,
      subscribedTopics: this.memberEpoch === 0 ? [this.topic] : undefined,
    });
    if (res.status !== 200) throw new Error(`heartbeat ${res.status} ${JSON.stringify(res.data)}`);
    Object.assign(this, { memberId: res.data.memberId, memberEpoch: res.data.memberEpoch, lastHeartbeatAt: Date.now() });
    this.assignment = (res.data.assignment.find((a) => a.topic === this.topic) || { partitions: [] }).partitions;
  }
}

async function main() {
  const args = parseFlags(process.argv.slice(2), DEFAULTS);
  const cluster = await startCluster({ env: { BROOK_GROUP_SESSION_TIMEOUT_MS: String(args.sessionTimeoutMs) } });
  try {
    const topic = 'consume-bench';
    await json(cluster.controller, 'POST', '/create_topic/', { name: topic, partitions: args.partitions });
    const leaders = await until(async () => {
      const t = await cluster.topic(topic);
      return t.partitions.every((p) => p.isr.length === 3) && t.partitions.map((p) => cluster.brokerPorts[p.leader - 1]);
    }, 20000, 'the topic');
    const value = 'x'.repeat(args.valueBytes - 2); // stored as a JSON string: two quotes
    const perPartition = Math.ceil(args.records / args.partitions);
    for (let p = 0; p < args.partitions; p++) {
      for (let sent = 0; sent < perPartition; sent += 1000) {
        const n = Math.min(1000, perPartition - sent);
        const res = await json(cluster.broker(leaders[p]), 'POST', '/events?acks=1', { topic, records: Array.from({ length: n }, () => ({ partition: p, value })) });
        if (res.status !== 200) throw new Error(`produce ${res.status}`);
      }
    }
    const total = perPartition * args.partitions;
    await until(async () => {
      for (let p = 0; p < args.partitions; p++) {
        if ((await json(cluster.broker(leaders[p]), 'GET', `/topics/${topic}/partitions/${p}/offsets`)).data.latest < perPartition) return false;
      }
      return true;
    }, 30000, 'replication');

    const consume = async (memberCount) => {
      const group = `bench-${memberCount}`;
      const members = Array.from({ length: memberCount }, (_, i) => new Member(cluster, [cluster.brokerPorts[i % 3]], group, topic));
      await until(async () => {
        for (const m of members) await m.heartbeat();
        const owned = members.flatMap((m) => m.assignment);
        const counts = members.map((m) => m.assignment.length);
        return owned.length === args.partitions && new Set(owned).size === args.partitions && Math.max(...counts) - Math.min(...counts) <= 1;
      }, 20000, 'an even assignment');
      let consumed = 0;
      const started = process.hrtime.bigint();
      await Promise.all(
        members.map(async (m) => {
          const positions = new Map(m.assignment.map((p) => [p, 0]));
          while ([...positions.values()].some((o) => o < perPartition)) {
            for (const [p, offset] of positions) {
              if (offset >= perPartition) continue;
              const res = await json(cluster.broker(leaders[p]), 'GET', `/topics/${topic}/partitions/${p}/records?offset=${offset}&max_records=10000&max_bytes=8388608`);
              const records = res.data.records;
              if (records.length === 0) continue;
              positions.set(p, records[records.length - 1].offset + 1);
              consumed += records.length;
            }
          }
          await json(cluster.broker(m.ports[0]), 'POST', `/groups/${group}/offsets`, {
            memberId: m.memberId,
            memberEpoch: m.memberEpoch,
            offsets: [...positions].map(([partition, offset]) => ({ topic, partition, offset })),
          });
        }),
      );
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (consumed !== total) throw new Error(`consumed ${consumed} of ${total}`);
      return { members: memberCount, records: consumed, seconds: +seconds.toFixed(3), recordsPerSec: Math.round(consumed / seconds), mbPerSec: +((consumed * args.valueBytes) / seconds / 1e6).toFixed(2), group, membersState: members };
    };

    const one = await consume(1);
    const three = await consume(3);
    // Rebalance: the third member of the 3-member group stops heartbeating; timed from its last heartbeat.
    const survivors = three.membersState.slice(0, 2);
    const dead = three.membersState[2];
    await dead.heartbeat();
    const stoppedAt = dead.lastHeartbeatAt;
    await until(async () => {
      for (const m of survivors) await m.heartbeat();
      const owned = survivors.flatMap((m) => m.assignment);
      return owned.length === args.partitions && new Set(owned).size === args.partitions;
    }, 60000, 'the survivors to own every partition', 50);
    const rebalanceMs = Date.now() - stoppedAt;

    const result = {
      benchmark: 'consume',
      params: args,
      consume: [one, three].map(({ membersState, group, ...r }) => r),
      rebalanceAfterMemberDeathMs: rebalanceMs,
      deadMemberHadPartitions: dead.assignment,
    };
    console.log(JSON.stringify(result, null, 2));
    writeResult('consume', result);
  } finally {
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(`bench-consume failed: ${err.message}`);
  process.exit(1);
});
