import { Command, InvalidArgumentError, Option } from 'commander';
import type { GroupDescriptionWithLag, ResetOffsetsOptions } from '@brook/client';
import { withAdmin } from '../adminSession';
import { globalOptions } from '../connection';
import { nonNegativeInt } from '../optionParsers';
import { printResult, renderTable } from '../output';

function listTopicPartitions(tps: Array<{ topic: string; partitions: number[] }>): string {
  return tps.map((a) => `${a.topic}:${a.partitions.join(',')}`).join(' ');
}

function describeText(g: GroupDescriptionWithLag): string {
  const owner = new Map<string, string>();
  for (const m of g.members) for (const a of m.assignment) for (const p of a.partitions) owner.set(`${a.topic}-${p}`, m.memberId);
  return [
    `group ${g.groupId}: ${g.state}, epoch ${g.groupEpoch}, ${g.members.length} members, total lag ${g.totalLag}`,
    renderTable(g.members, [
      { header: 'MEMBER', value: (m) => m.memberId },
      { header: 'CLIENT', value: (m) => m.clientId },
      { header: 'EPOCH', value: (m) => m.memberEpoch },
      { header: 'TOPICS', value: (m) => m.subscribedTopics.join(',') },
      { header: 'ASSIGNMENT', value: (m) => listTopicPartitions(m.assignment) },
      { header: 'REVOKING', value: (m) => listTopicPartitions(m.partitionsPendingRevocation) },
    ]),
    renderTable(g.partitions, [
      { header: 'TOPIC', value: (p) => p.topic },
      { header: 'PARTITION', value: (p) => p.partition },
      { header: 'COMMITTED', value: (p) => (p.committedOffset < 0 ? null : p.committedOffset) },
      { header: 'HIGH WATERMARK', value: (p) => p.highWatermark },
      { header: 'LAG', value: (p) => p.lag },
      { header: 'MEMBER', value: (p) => owner.get(`${p.topic}-${p.partition}`) },
    ]),
  ].join('\n\n');
}

function timestamp(text: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected ms since the epoch or an ISO date, got ${JSON.stringify(text)}`);
  return n;
}

export function groupsCommand(): Command {
  const groups = new Command('groups').description('list, describe and reset consumer groups');

  groups
    .command('list')
    .description('every consumer group')
    .action(async (_opts, command: Command) => {
      const options = globalOptions(command);
      const list = await withAdmin(options, (admin) => admin.listGroups());
      await printResult(options.json, list, (l) =>
        renderTable(l, [
          { header: 'GROUP', value: (g) => g.groupId },
          { header: 'STATE', value: (g) => g.state },
          { header: 'MEMBERS', value: (g) => g.members },
        ]),
      );
    });

  groups
    .command('describe <group>')
    .description('members, assignment, committed offsets and lag')
    .action(async (group: string, _opts, command: Command) => {
      const options = globalOptions(command);
      const description = await withAdmin(options, (admin) => admin.describeGroup(group));
      await printResult(options.json, description, describeText);
    });

  groups
    .command('reset-offsets <group>')
    .description('move the committed offsets of a group without members')
    .addOption(new Option('--to <target>', 'where to move them').choices(['earliest', 'latest', 'offset', 'timestamp']).makeOptionMandatory())
    .option('--topic <name>', 'only this topic (default: every topic the group committed for)')
    .option('--offset <n>', 'with --to offset: the offset (clamped to each partition)', nonNegativeInt)
    .option('--timestamp <ms|date>', 'with --to timestamp: the first offset at or after this time', timestamp)
    .action(async (group: string, opts: ResetOffsetsOptions, command: Command) => {
      const options = globalOptions(command);
      if (opts.to === 'offset' && opts.offset === undefined) throw new Error('--to offset needs --offset <n>');
      if (opts.to === 'timestamp' && opts.timestamp === undefined) throw new Error('--to timestamp needs --timestamp <ms|date>');
      const reset = await withAdmin(options, (admin) =>
        admin.resetOffsets(group, { to: opts.to, topic: opts.topic, offset: opts.offset, timestamp: opts.timestamp }),
      );
      await printResult(options.json, reset, (r) =>
        [
          `reset group ${r.groupId}`,
          renderTable(r.offsets, [
            { header: 'TOPIC', value: (o) => o.topic },
            { header: 'PARTITION', value: (o) => o.partition },
            { header: 'OFFSET', value: (o) => o.offset },
          ]),
        ].join('\n'),
      );
    });

  return groups;
}
