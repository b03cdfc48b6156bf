import type { IncomingHttpHeaders } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Dispatcher, request } from 'undici';
import { type AtlasCall, AtlasDeadlineError } from './errors.js';

/** A response whose body has been read in full (undici needs every body consumed). */
export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One HTTP exchange, exactly as sent. */
export interface RawRequest {
  url: string;
  method: 'GET' | 'POST' | 'DELETE';
  headers: Record<string, string>;
  body?: string;
}

/**
 * Sends one request and reads the whole body as text. Bodies here are small (≤ ~5 KB per
 * certificate, 500 list items), and text is the only safe way to read the create response: it
 * is raw PEM under a JSON content type.
 */
export const sendOnce = async (
  dispatcher: Dispatcher,
  req: RawRequest,
  timeoutMs: number,
): Promise<RawResponse> => {
  const res = await request(req.url, {
    dispatcher,
    method: req.method,
    headers: req.headers,
    body: req.body ?? null,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    // Bounds the whole attempt, headers and body, also when the dispatcher is a MockAgent.
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
};

/** The error code of a transport failure: Node's `code`, undici's `UND_ERR_*`, or a timeout. */
export const transportCode = (error: unknown): string => {
  if (!(error instanceof Error)) return 'UNKNOWN';
  if (error.name === 'TimeoutError') return 'ETIMEDOUT';
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return error.cause === undefined ? 'UNKNOWN' : transportCode(error.cause);
};

/**
 * Failures that happen before a single byte of the request can have left: no connection was
 * made. Only these make retrying a non-idempotent request safe.
 */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

/** Transient failures worth retrying for a request that is safe to repeat. */
const TRANSIENT = new Set([
  ...NOT_SENT,
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * Failures no retry mends within a run: nothing listens there (refused), the name does not
 * resolve (`EAI_AGAIN`, a DNS server that did not answer, stays transient), or TLS refused the
 * host's certificate. The run stops on them at once, naming host, port and code.
 */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND']);
const TLS_FAILURE =
  /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH)/;

/** The code of a failure that says Atlas cannot be reached from here, if it is one. */
export const unreachableCode = (error: unknown): string | undefined => {
  const code = transportCode(error);
  return UNREACHABLE.has(code) || TLS_FAILURE.test(code) ? code : undefined;
};

/** True when the request provably never reached the server. */
export const provablyNotSent = (error: unknown): boolean => NOT_SENT.has(transportCode(error));

/** True for network failures a safe (idempotent) request may be retried after. */
export const isTransient = (error: unknown): boolean => TRANSIENT.has(transportCode(error));

/** `Retry-After` in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export const parseRetryAfter = (
  value: string | string[] | undefined,
  now: number,
): number | undefined => {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
};

/** Retry limits; the defaults follow Atlas's advice to back off for seconds, not milliseconds. */
export interface RetryOptions {
  maxRetries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  maxRetries: 4,
  minTimeoutMs: 1000,
  maxTimeoutMs: 30_000,
};

/** Exponential backoff from `minTimeoutMs`, +0–25 % jitter so workers spread out, capped. */
export const backoffMs = (retry: number, options: RetryOptions, random = Math.random): number => {
  const base = options.minTimeoutMs * 2 ** retry;
  return Math.round(Math.min(options.maxTimeoutMs, base * (1 + random() / 4)));
};

/** The longest single wait a run without a deadline accepts (well inside a lease). */
export const MAX_WAIT_WITHOUT_DEADLINE_MS = 120_000;

/**
 * The longest single wait a run accepts: bounded by its deadline when it has one, else
 * MAX_WAIT_WITHOUT_DEADLINE_MS, so a long Retry-After cannot hold the run and its leases.
 */
export const maxWaitFor = (runDeadline: number | undefined): number =>
  runDeadline === undefined ? MAX_WAIT_WITHOUT_DEADLINE_MS : Number.POSITIVE_INFINITY;

/** A wait longer than a run without a deadline accepts: the caller defers instead. */
export const waitTooLong = (call: AtlasCall, waitMs: number, cause?: unknown): AtlasDeadlineError =>
  new AtlasDeadlineError(
    call,
    waitMs,
    cause,
    `Atlas asked to wait ${waitMs} ms, more than the ${MAX_WAIT_WITHOUT_DEADLINE_MS} ms a run without a deadline waits`,
  );

/** What one attempt concluded. */
export type AttemptResult<T> =
  | { kind: 'done'; value: T }
  /** Give up with this error. */
  | { kind: 'fail'; error: Error }
  /**
   * Try again after `retryAfterMs` (from the server) or a backoff; `reason` is why. `throttled`
   * (a 429): the server refused without acting, so with a deadline only the deadline bounds it.
   */
  | { kind: 'retry'; reason: Error; retryAfterMs: number | undefined; throttled?: boolean };

export interface RetryContext {
  call: AtlasCall;
  options: RetryOptions;
  deadline: () => number | undefined;
  /** The longest single wait: `maxWaitFor(the run's deadline)`. */
  maxWaitMs: number;
  now: () => number;
  onRetry: (retry: { attempt: number; waitMs: number; reason: Error }) => void;
  /** Builds the error thrown when the retries run out. */
  exhausted: (reason: Error, attempts: number) => Error;
}

/**
 * The one retry loop of the Atlas client (token requests included).
 *
 * Why not undici's `interceptors.retry`: it re-dispatches the same request, so it cannot
 * swap in a fresh bearer token or a Digest answer after a 401; it caps `Retry-After` at
 * `maxTimeout` instead of honouring it, knows nothing of the run's deadline, retries every
 * status it is given (a create POST must retry a 503 only when Retry-After promises it was
 * refused), and hides the attempts from our stats and logs. Each attempt decides here instead.
 *
 * A `Retry-After` from Atlas is honoured as given (Atlas asks to wait *at least* that long);
 * the deadline, not `maxTimeoutMs`, bounds it.
 */
export const runWithRetries = async <T>(
  attempt: (attemptNumber: number) => Promise<AttemptResult<T>>,
  ctx: RetryContext,
): Promise<T> => {
  // Never start work that the caller has no time left to finish.
  const deadline = ctx.deadline();
  if (deadline !== undefined && ctx.now() >= deadline) throw new AtlasDeadlineError(ctx.call, 0);
  for (let attemptNumber = 1; ; attemptNumber++) {
    const result = await attempt(attemptNumber);
    if (result.kind === 'done') return result.value;
    if (result.kind === 'fail') throw result.error;
    const until = ctx.deadline();
    const boundedByDeadline = result.throttled === true && until !== undefined;
    if (attemptNumber > ctx.options.maxRetries && !boundedByDeadline) {
      throw ctx.exhausted(result.reason, attemptNumber);
    }
    const waitMs = result.retryAfterMs ?? backoffMs(attemptNumber - 1, ctx.options);
    if (until !== undefined && ctx.now() + waitMs > until) {
      throw new AtlasDeadlineError(ctx.call, waitMs, result.reason);
    }
    // Defer rather than wait longer than the run accepts; Atlas's wait is never shortened.
    if (waitMs > ctx.maxWaitMs) throw waitTooLong(ctx.call, waitMs, result.reason);
    ctx.onRetry({ attempt: attemptNumber, waitMs, reason: result.reason });
    if (waitMs > 0) await sleep(waitMs);
  }
};
