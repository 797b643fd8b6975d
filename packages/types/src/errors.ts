/**
 * The one error type of Brook. Every failure that reaches a client is a BrookError with a stable code;
 * the HTTP status is a property of the code, so every service maps errors the same way (DESIGN §6).
 */
export const ERROR_STATUS = {
  INVALID_REQUEST: 400,
  INVALID_JSON: 400,
  INVALID_TOPIC_NAME: 400,
  INVALID_PARTITIONS: 400,
  INVALID_REPLICATION_FACTOR: 400,
  INVALID_OFFSET: 400,
  INVALID_RECORD: 400,
  CORRUPT_RECORD: 400,
  UNKNOWN_TOPIC: 404,
  UNKNOWN_PARTITION: 404,
  UNKNOWN_BROKER: 404,
  UNKNOWN_CLUSTER: 404,
  UNKNOWN_RECORD: 404,
  UNKNOWN_GROUP: 404,
  UNKNOWN_MEMBER_ID: 404,
  UNKNOWN_CONSUMER_INSTANCE: 404,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  TOPIC_ALREADY_EXISTS: 409,
  CLUSTER_ALREADY_EXISTS: 409,
  BROKER_ID_CONFLICT: 409,
  STALE_BROKER_EPOCH: 409,
  STALE_PARTITION_EPOCH: 409,
  FENCED_LEADER_EPOCH: 409,
  OUT_OF_ORDER_SEQUENCE: 409,
  INVALID_PRODUCER_EPOCH: 409,
  STALE_MEMBER_EPOCH: 409,
  FENCED_MEMBER_EPOCH: 409,
  GROUP_NOT_EMPTY: 409,
  CONSUMER_INSTANCE_EXISTS: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  OFFSET_OUT_OF_RANGE: 416,
  NOT_LEADER: 421,
  NOT_COORDINATOR: 421,
  LEADER_NOT_AVAILABLE: 503,
  NOT_ENOUGH_REPLICAS: 503,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 503,
  BROKER_NOT_AVAILABLE: 503,
  COORDINATOR_LOAD_IN_PROGRESS: 503,
  NOT_CONTROLLER_READY: 503,
  REQUEST_TIMED_OUT: 504,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  error: { code: ErrorCode; message: string } & Record<string, unknown>;
}

export class BrookError extends Error {
  readonly code: ErrorCode;
  /** Extra fields for the client, e.g. the leader's address on NOT_LEADER. */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'BrookError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }

  /** Rebuilds the error another Brook service answered with, so it can be passed on unchanged. */
  static fromBody(body: unknown, fallbackStatus: number): BrookError {
    const e = (body as ErrorBody | undefined)?.error;
    if (e && typeof e.code === 'string' && e.code in ERROR_STATUS) {
      const { code, message, ...details } = e;
      return new BrookError(code, String(message), details);
    }
    return new BrookError(
      fallbackStatus >= 500 ? 'BROKER_NOT_AVAILABLE' : 'INVALID_REQUEST',
      `unexpected answer with status ${fallbackStatus}`,
    );
  }
}
