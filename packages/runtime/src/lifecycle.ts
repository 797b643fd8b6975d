import { describeConfig, loadConfig, type ConfigOf, type ConfigSpec } from './config';
import { createLogger, type Logger } from './logger';

export interface RunningService {
  /** Graceful stop; called once on SIGTERM or SIGINT. */
  stop(): Promise<void>;
}

/**
 * The one way every Brook service starts: load config from flags and env, create the logger, start, and
 * stop gracefully on SIGTERM/SIGINT. A bad option prints one line and exits 2.
 */
export async function runService<T extends ConfigSpec>(
  name: string,
  spec: T,
  start: (config: ConfigOf<T>, logger: Logger) => Promise<RunningService>,
): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(`usage: ${name} [options]\n${describeConfig(spec)}\n`);
    return;
  }
  let config: ConfigOf<T>;
  try {
    config = loadConfig(spec);
  } catch (e) {
    process.stderr.write(`${name}: ${(e as Error).message}\n`);
    process.exit(2);
  }
  const logger = createLogger(name, (config as { logLevel?: string }).logLevel);
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection');
    process.exit(1);
  });
  let service: RunningService;
  try {
    service = await start(config, logger);
  } catch (err) {
    logger.fatal({ err }, 'failed to start');
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    service.stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
