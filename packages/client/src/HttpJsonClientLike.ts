import type { RequestOptions } from '@brook/runtime';

/** What the client needs of an HTTP JSON client (HttpJsonClient from @brook/runtime, or a test double). */
export interface HttpJsonClientLike {
  readonly baseUrl: string;
  get<T>(path: string, options?: RequestOptions): Promise<T>;
  post<T>(path: string, body: unknown, options?: RequestOptions): Promise<T>;
  delete<T>(path: string, options?: RequestOptions): Promise<T>;
  close(): Promise<void>;
}
