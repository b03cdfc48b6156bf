import {
  KEY_WRITE_BUDGET_MS,
  KEY_WRITE_CONNECT_TIMEOUT_MS,
  KEY_WRITE_REQUEST_TIMEOUT_MS,
} from '../../domain/timing.js';

/**
 * Retries for the writes that hold a minted key or move it into place (PutSecretValue and the
 * label moves). The SDK's standard strategy keeps one retry-token bucket per client (500 tokens,
 * 5 per throttling retry); once other calls have emptied it, errors are not retried at all,
 * whatever `maxAttempts` says, and a minted key is lost. These writes therefore go through a
 * client of their own with SDK retries off (`maxAttempts: 1`) and are retried here: no shared
 * quota, exponential backoff with full jitter, and a time budget of their own.
 * Every write retried is idempotent: PutSecretValue carries its ClientRequestToken, and a label
 * move that already happened is recognised by the caller.
 */

export interface KeyWriteRetryOptions {
  /**
   * All of one write, every attempt and wait included: a retry is made only if it can end
   * inside it. The engine starts a create only with this much time left after it, so a minted
   * key always gets its whole budget. @default KEY_WRITE_BUDGET_MS
   */
  budgetMs?: number;
  /** The longest one attempt takes (the client's connect and request timeouts). */
  attemptTimeoutMs?: number;
  /** First backoff after throttling; other errors start at a fifth of it. @default 500 */
  baseDelayMs?: number;
  /** Short enough that a write throttled throughout still gets eight attempts. @default 5000 */
  maxDelayMs?: number;
  /**
   * Epoch ms no retry passes. For label moves only: an unmoved label leaves the key pending,
   * and the next run promotes it. A key's first write is bounded by its budget alone.
   */
  deadline?: (() => number | undefined) | undefined;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const THROTTLING = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);

const NETWORK = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

interface AwsLikeError {
  name?: string;
  code?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

const isThrottling = (err: unknown): boolean => {
  const e = (err ?? {}) as AwsLikeError;
  return THROTTLING.has(e.name ?? '') || e.$metadata?.httpStatusCode === 429;
};

/** Throttling, a 5xx, or no answer at all: worth another attempt. A 4xx refusal is final. */
export const isRetryableWrite = (err: unknown): boolean => {
  const e = (err ?? {}) as AwsLikeError;
  if (e.$retryable) return true;
  if (isThrottling(err) || NETWORK.has(e.name ?? '')) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined) return status === 429 || status >= 500;
  // No HTTP response: a socket error (ECONNRESET, EPIPE, …).
  return typeof e.code === 'string' && e.code.startsWith('E');
};

export const retryKeyWrite = async <T>(
  write: () => Promise<T>,
  options: KeyWriteRetryOptions = {},
): Promise<T> => {
  const budget = options.budgetMs ?? KEY_WRITE_BUDGET_MS;
  const attemptMax =
    options.attemptTimeoutMs ?? KEY_WRITE_CONNECT_TIMEOUT_MS + KEY_WRITE_REQUEST_TIMEOUT_MS;
  const base = options.baseDelayMs ?? 500;
  const cap = options.maxDelayMs ?? 5_000;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  const started = now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (!isRetryableWrite(err)) throw err;
      // As the SDK does: throttling backs off from `base`, other errors from a fifth of it.
      const from = isThrottling(err) ? base : base / 5;
      const delay = Math.floor(random() * Math.min(cap, from * 2 ** (attempt - 1)));
      if (now() + delay + attemptMax - started > budget) throw err;
      const deadline = options.deadline?.();
      if (deadline !== undefined && now() + delay >= deadline) throw err;
      await sleep(delay);
    }
  }
};
