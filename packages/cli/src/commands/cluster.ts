import { Command } from 'commander';
import { withAdmin } from '../adminSession';
import { globalOptions } from '../connection';
import { printResult, renderTable } from '../output';

export function clusterCommand(): Command {
  const cluster = new Command('cluster').description('the cluster and its brokers');
  cluster
    .command('status')
    .description('controller, brokers (active or fenced) and their processes')
    .action(async (_opts, command: Command) => {
      const options = globalOptions(command);
      const view = await withAdmin(options, (admin) => admin.cluster());
      const status = {
        controller: options.controller,
        cluster: view.name,
        managed: view.managed,
        topics: view.topics.length,
        brokers: view.brokers.map((b) => ({ id: b.id, host: b.host, port: b.port, state: b.state, process: b.process, pid: b.pid, restarts: b.restarts })),
      };
      await printResult(options.json, status, (s) => {
        const alive = s.brokers.filter((b) => b.state === 'active').length;
        return [
          `controller ${s.controller}, cluster ${s.cluster}: ${alive} of ${s.brokers.length} brokers active, ${s.topics} topics`,
          renderTable(s.brokers, [
            { header: 'BROKER', value: (b) => b.id },
            { header: 'ADDRESS', value: (b) => `${b.host}:${b.port}` },
            { header: 'STATE', value: (b) => b.state },
            { header: 'PROCESS', value: (b) => b.process },
            { header: 'PID', value: (b) => b.pid },
            { header: 'RESTARTS', value: (b) => b.restarts },
          ]),
        ].join('\n');
      });
    });
  return cluster;
}
