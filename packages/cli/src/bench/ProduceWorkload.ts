import type { Acks } from '@brook/client';

/** What every producing bench sends: where, how many records of what size, and with which acks. */
export interface ProduceWorkload {
  controllerUrl: string;
  cluster: string;
  topic: string;
  recordSize: number;
  /** Stop after this many records… */
  records: number;
  /** …or after this long, whichever comes first. */
  durationMs?: number;
  acks: Acks;
}
