import type { Command } from 'commander';

/** The options every command shares: where the controller is, which cluster, and the output form. */
export interface GlobalOptions {
  controller: string;
  cluster: string;
  json: boolean;
}

/** The global options as a subcommand sees them (commander keeps them on the root program). */
export function globalOptions(command: Command): GlobalOptions {
  const o = command.optsWithGlobals<{ controller: string; cluster: string; json?: boolean }>();
  return { controller: o.controller.replace(/\/+$/, ''), cluster: o.cluster, json: o.json === true };
}
