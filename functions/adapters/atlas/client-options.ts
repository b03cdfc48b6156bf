import type { Dispatcher } from 'undici';
import type { Log } from '../../domain/log.js';
import type { AtlasCredentials, RereadCredentials } from './auth.js';
import type { RequestPace } from './pacing.js';

/** Options of {@link AtlasClient}. */
export interface AtlasClientOptions {
  /** Atlas origin, e.g. `https://cloud.mongodb.com`. */
  baseUrl: string;
  credentials: AtlasCredentials;
  /**
   * Reads the credential again after Atlas rejected it, at most once per client: Secrets Manager
   * may have rotated it since the run read it. A changed value replaces it and the request is
   * sent again; an unchanged one (or none) fails as before. It must stop when its `abortSignal`
   * fires (the run's time left, at most `REREAD_BUDGET_MS`).
   * @default - no second read
   */
  rereadCredentials?: RereadCredentials | undefined;
  /** @default a module-scope keep-alive `Agent` (tests inject a `MockAgent`) */
  dispatcher?: Dispatcher;
  /** @default { maxRetries: 4, minTimeoutMs: 1000, maxTimeoutMs: 30000 } */
  retry?: { maxRetries?: number; minTimeoutMs?: number; maxTimeoutMs?: number };
  /** Per-attempt limit for headers and body together. @default 30000 */
  requestTimeoutMs?: number;
  /** Epoch ms the client never waits past: it throws `AtlasDeadlineError` instead. */
  deadline?: () => number | undefined;
  /** Clock for token expiry and the deadline. @default Date.now */
  now?: () => number;
  log?: Log;
  /** Paces requests by Atlas's rate limits. @default a pacing of this client's own */
  pace?: RequestPace;
  /**
   * A read in a run with a deadline is sent only with this long left after its user's create
   * could start: the create's timeout and its key's store. @default CREATE_RESERVE_MS
   */
  createReserveMs?: number;
}

/** Counters for the run report. */
export interface AtlasClientStats {
  /** HTTP requests to the Admin API (Digest challenges and re-sends included, tokens not). */
  requests: number;
  /** Retries after a wait (429, 5xx, network), token requests included. */
  retries: number;
  /** 429 responses. */
  throttled: number;
  /** 401s answered with a fresh token or a fresh Digest challenge. */
  authChallenges: number;
  /** HTTP requests to the OAuth token endpoint. */
  tokenRequests: number;
}
