import { Command, InvalidArgumentError } from 'commander';
import type { TopicView } from '@brook/types';
import { withAdmin } from '../adminSession';
import { globalOptions } from '../connection';
import { printResult, renderTable } from '../output';
import { positiveInt } from '../optionParsers';

/** `--config k=v`, repeatable, into a config map. */
function configEntry(entry: string, configs: Record<string, string>): Record<string, string> {
  const at = entry.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`expected key=value, got ${JSON.stringify(entry)}`);
  return { ...configs, [entry.slice(0, at)]: entry.slice(at + 1) };
}

function describeText(topic: TopicView): string {
  const configs = Object.entries(topic.configs).map(([k, v]) => `${k}=${v}`);
  return [
    `topic ${topic.name} (id ${topic.topicId}), ${topic.partitions.length} partitions${configs.length ? `, configs: ${configs.join(', ')}` : ''}`,
    renderTable(topic.partitions, [
      { header: 'PARTITION', value: (p) => p.partition },
      { header: 'LEADER', value: (p) => (p.leader >= 0 ? p.leader : 'offline') },
      { header: 'REPLICAS', value: (p) => p.replicas.join(',') },
      { header: 'ISR', value: (p) => p.isr.join(',') },
      { header: 'LEADER EPOCH', value: (p) => p.leaderEpoch },
    ]),
  ].join('\n');
}

export function topicsCommand(): Command {
  const topics = new Command('topics').description('create, list, describe and delete topics');

  topics
    .command('create <name>')
    .description('create a topic')
    .option('-p, --partitions <n>', 'partition count (default: the cluster default)', positiveInt)
    .option('-r, --replication-factor <n>', 'replicas per partition (default: min(3, brokers))', positiveInt)
    .option('--config <key=value>', 'topic config, repeatable (e.g. retention.ms=86400000)', configEntry, {})
    .action(async (name: string, opts: { partitions?: number; replicationFactor?: number; config: Record<string, string> }, command: Command) => {
      const options = globalOptions(command);
      const topic = await withAdmin(options, (admin) =>
        admin.createTopic({ topic: name, partitions: opts.partitions, replicationFactor: opts.replicationFactor, configs: opts.config }),
      );
      await printResult(options.json, topic, (t) => `created topic ${t.name} with ${t.partitions.length} partitions`);
    });

  topics
    .command('list')
    .description('every topic of the cluster')
    .action(async (_opts, command: Command) => {
      const options = globalOptions(command);
      const list = await withAdmin(options, (admin) => admin.listTopics());
      const rows = list
        .map((t) => ({
          name: t.name,
          partitions: t.partitions.length,
          replicationFactor: Math.max(0, ...t.partitions.map((p) => p.replicas.length)),
          underReplicated: t.partitions.filter((p) => p.isr.length < p.replicas.length).length,
          offline: t.partitions.filter((p) => p.leader < 0).length,
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
      await printResult(options.json, rows, (r) =>
        renderTable(r, [
          { header: 'TOPIC', value: (t) => t.name },
          { header: 'PARTITIONS', value: (t) => t.partitions },
          { header: 'RF', value: (t) => t.replicationFactor },
          { header: 'UNDER-REPLICATED', value: (t) => t.underReplicated },
          { header: 'OFFLINE', value: (t) => t.offline },
        ]),
      );
    });

  topics
    .command('describe <name>')
    .description('partitions of a topic: leader, replicas, in-sync replicas')
    .action(async (name: string, _opts, command: Command) => {
      const options = globalOptions(command);
      const topic = await withAdmin(options, (admin) => admin.describeTopic(name));
      await printResult(options.json, topic, describeText);
    });

  topics
    .command('delete <name>')
    .description('delete a topic and its records')
    .action(async (name: string, _opts, command: Command) => {
      const options = globalOptions(command);
      const deleted = await withAdmin(options, (admin) => admin.deleteTopic(name));
      await printResult(options.json, deleted, (d) => `deleted topic ${d.name}`);
    });

  return topics;
}
