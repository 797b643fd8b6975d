import pino from 'pino';

export type Logger = pino.Logger;

/** The one logger: pino, JSON lines on stdout, one `service` field per process. */
export function createLogger(service: string, level: string = process.env.BROOK_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: service, level, base: { service, pid: process.pid } });
}
