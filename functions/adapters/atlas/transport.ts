import { Agent, type Dispatcher } from 'undici';
import packageJson from '../../../package.json' with { type: 'json' };
import { asError, RotatorError } from '../../domain/errors.js';
import { type Log, silentLog } from '../../domain/log.js';
import { ATLAS_REQUEST_TIMEOUT_MS, CREATE_RESERVE_MS } from '../../domain/timing.js';
import type { AtlasCredentials } from './auth.js';
import { AuthSession } from './auth-session.js';
import type { CallSpec } from './call.js';
import type { AtlasClientOptions, AtlasClientStats } from './client-options.js';
import {
  AtlasApiError,
  AtlasCreateOutcomeUnknownError,
  AtlasDeadlineError,
  AtlasUnavailableError,
  AtlasUnreachableError,
  lateToSend,
} from './errors.js';
import {
  type AttemptResult,
  DEFAULT_RETRY,
  isTransient,
  maxWaitFor,
  parseRetryAfter,
  provablyNotSent,
  type RawResponse,
  type RetryOptions,
  runWithRetries,
  sendOnce,
  transportCode,
  unreachableCode,
  waitTooLong,
} from './http.js';
import {
  type Admission,
  boundedShape,
  type RateLimitInfo,
  RateLimitPacing,
  type RequestPace,
} from './pacing.js';
import { apiErrorOf } from './responses.js';
import { rateLimitedParametersSchema } from './schemas.js';

/** A count header (`RateLimit-Limit`, `-Remaining`): a finite number from 0, else none. */
const headerNumber = (value: string | string[] | undefined): number | undefined => {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
};

const MEDIA_TYPE = 'application/vnd.atlas.2023-01-01+json';
const USER_AGENT = `atlas-x509-rotator/${packageJson.version}`;
const GATE_WHY = 'Atlas is rate-limiting this run; reads give way to certificate creation';

/**
 * One keep-alive pool per process, reused across warm Lambda invocations. Timeouts stay well
 * below the Lambda timeout; each request also carries its own `requestTimeoutMs`.
 */
const defaultAgent = new Agent({
  connect: { timeout: 10_000 },
  keepAliveTimeout: 4_000,
  keepAliveMaxTimeout: 30_000,
  headersTimeout: ATLAS_REQUEST_TIMEOUT_MS,
  bodyTimeout: ATLAS_REQUEST_TIMEOUT_MS,
});

/** A read near the deadline still gets this long to answer. */
const MIN_READ_TIMEOUT_MS = 1_000;

const RETRYABLE_5XX = new Set([500, 502, 503, 504]);

/**
 * The Admin API transport: sending each request signed by its auth session (`auth-session.ts`:
 * the credential, its strategy and the 401s), the retry rules of each call's safety, the rate-limit gate after a 429, the time budget
 * (the run's deadline, a create's `startBy`) and Atlas's error bodies. The endpoints are in
 * `client.ts`; this file knows no endpoint.
 */
export class AtlasTransport {
  /** Counters for the run report; they only grow. */
  readonly stats: AtlasClientStats = {
    requests: 0,
    retries: 0,
    throttled: 0,
    authChallenges: 0,
    tokenRequests: 0,
  };

  private readonly baseUrl: string;
  private readonly basePath: string;
  private readonly dispatcher: Dispatcher;
  private readonly retry: RetryOptions;
  private readonly timeoutMs: number;
  private readonly deadline: () => number | undefined;
  private readonly now: () => number;
  private readonly log: Log;
  private readonly pace: RequestPace;
  private readonly createReserveMs: number;
  private readonly session: AuthSession;

  constructor(options: AtlasClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.basePath = new URL(this.baseUrl).pathname.replace(/\/+$/, '');
    this.dispatcher = options.dispatcher ?? defaultAgent;
    this.retry = {
      maxRetries: options.retry?.maxRetries ?? DEFAULT_RETRY.maxRetries,
      minTimeoutMs: options.retry?.minTimeoutMs ?? DEFAULT_RETRY.minTimeoutMs,
      maxTimeoutMs: options.retry?.maxTimeoutMs ?? DEFAULT_RETRY.maxTimeoutMs,
    };
    this.timeoutMs = options.requestTimeoutMs ?? ATLAS_REQUEST_TIMEOUT_MS;
    this.deadline = options.deadline ?? (() => undefined);
    this.now = options.now ?? Date.now;
    this.log = options.log ?? silentLog;
    this.pace = options.pace ?? new RateLimitPacing({ maxUsers: 1, now: this.now });
    this.createReserveMs = options.createReserveMs ?? CREATE_RESERVE_MS;
    this.session = new AuthSession({
      baseUrl: this.baseUrl,
      credentials: options.credentials,
      rereadCredentials: options.rereadCredentials,
      userAgent: USER_AGENT,
      sendToken: (req) => sendOnce(this.dispatcher, req, this.timeoutMs),
      retry: this.retry,
      deadline: this.deadline,
      now: this.now,
      log: this.log,
      stats: this.stats,
    });
  }

  /** The credential requests are sent with now (a re-read may have replaced the first). */
  get credentials(): AtlasCredentials {
    return this.session.credentials;
  }

  /** Runs one API call to a 2xx response, with the retry rules of its `safety`. */
  call(spec: CallSpec): Promise<RawResponse> {
    return runWithRetries((attempt) => this.attempt(spec, attempt), {
      call: spec,
      options: this.retry,
      deadline: () => this.deadlineOf(spec),
      maxWaitMs: maxWaitFor(this.deadline()),
      now: this.now,
      onRetry: ({ attempt, waitMs, reason }) => {
        this.stats.retries += 1;
        const why = reason instanceof AtlasApiError ? reason.errorCode : transportCode(reason);
        this.log.debug('Atlas retry', {
          method: spec.method,
          path: spec.path,
          attempt,
          waitMs,
          why,
        });
      },
      exhausted: (reason, attempts) =>
        new AtlasUnavailableError(spec, `gave up after ${attempts} attempts`, reason),
    });
  }

  /** The earliest of the run's deadline and the call's own `startBy`. */
  private deadlineOf(spec: CallSpec): number | undefined {
    const run = this.deadline();
    if (spec.startBy === undefined) return run;
    return run === undefined ? spec.startBy : Math.min(run, spec.startBy);
  }

  /**
   * Reads are cut at the run's deadline (the report must still go out); a create or a delete
   * already sent keeps its full timeout, since cutting it would leave its outcome unknown.
   */
  private attemptTimeout(spec: CallSpec): number {
    const deadline = this.deadline();
    if (spec.safety !== 'safe' || deadline === undefined) return this.timeoutMs;
    return Math.min(this.timeoutMs, Math.max(MIN_READ_TIMEOUT_MS, deadline - this.now()));
  }

  private async attempt(spec: CallSpec, attempt: number): Promise<AttemptResult<RawResponse>> {
    const gate = await this.throttleGate(spec);
    if (gate) return gate;
    let res: RawResponse;
    try {
      res = await this.send(spec, attempt);
    } catch (error) {
      if (error instanceof RotatorError) return { kind: 'fail', error };
      return this.onTransportError(spec, attempt, error);
    } finally {
      // Admitted once, settled once: whatever ended it (a response, a reset, a timeout, a
      // failed token, a late refusal); a Digest challenge and its answer are one admission.
      this.pace.settle(spec);
    }
    if (res.status >= 200 && res.status < 300) return { kind: 'done', value: res };
    return this.onErrorStatus(spec, res);
  }

  /** Sends the request once, signed by the auth session (which answers the 401s). */
  private send(spec: CallSpec, attempt: number): Promise<RawResponse> {
    const uri = spec.query ? `${spec.path}?${spec.query}` : spec.path;
    const mediaType = spec.mediaType ?? MEDIA_TYPE;
    const sendBy = this.deadlineOf(spec);
    // Digest signs the path the server sees, so a base URL with a path prefix is part of it.
    return this.session.send(spec, `${this.basePath}${uri}`, sendBy, async (authorization) => {
      // The last check before a byte leaves: a create never goes out after its startBy, no
      // request after the run's deadline, whatever the attempt waited for since it began.
      if (sendBy !== undefined && this.now() > sendBy) {
        throw lateToSend(spec, sendBy, this.now(), 'waiting before the send');
      }
      const headers: Record<string, string> = { accept: mediaType, 'user-agent': USER_AGENT };
      if (spec.body !== undefined) headers['content-type'] = mediaType;
      if (authorization !== undefined) headers.authorization = authorization;
      this.stats.requests += 1;
      const res = await sendOnce(
        this.dispatcher,
        { url: `${this.baseUrl}${uri}`, method: spec.method, headers, body: spec.body },
        this.attemptTimeout(spec),
      );
      this.log.debug('Atlas response', {
        method: spec.method,
        path: spec.path,
        status: res.status,
        attempt,
      });
      this.pace.observe(spec, this.rateLimitInfo(spec, res));
      return res;
    });
  }

  private onTransportError(
    spec: CallSpec,
    attempt: number,
    error: unknown,
  ): AttemptResult<RawResponse> {
    const reason = asError(error);
    const code = transportCode(error);
    this.log.debug('Atlas request failed', { method: spec.method, path: spec.path, attempt, code });
    const unreachable = unreachableCode(error);
    if (unreachable) {
      return {
        kind: 'fail',
        error: new AtlasUnreachableError(spec, this.baseUrl, unreachable, reason),
      };
    }
    if (provablyNotSent(error)) return { kind: 'retry', reason, retryAfterMs: undefined };
    switch (spec.safety) {
      case 'safe':
        return isTransient(error)
          ? { kind: 'retry', reason, retryAfterMs: undefined }
          : {
              kind: 'fail',
              error: new AtlasUnavailableError(spec, `request failed (${code})`, reason),
            };
      case 'create':
        return {
          kind: 'fail',
          error: new AtlasCreateOutcomeUnknownError(spec, `${code} after sending`, reason),
        };
      case 'unsafe':
        return {
          kind: 'fail',
          error: new AtlasUnavailableError(
            spec,
            `${code} after sending; the outcome is unknown`,
            reason,
          ),
        };
    }
  }

  /**
   * Waits for the request's token of its bucket (`pacing.ts`): after a 429, every request of
   * the bucket waits out `Retry-After`, not only the refused one. A read that would wait past
   * its room in a run with a deadline gives way, so the tokens go to creates of users in flight.
   */
  private async throttleGate(spec: CallSpec): Promise<AttemptResult<RawResponse> | undefined> {
    const refused = await this.pace.admit(spec, this.admission(spec));
    if (!refused) return undefined;
    const { waitMs } = refused;
    switch (refused.refused) {
      case 'giveWay':
        return { kind: 'fail', error: new AtlasDeadlineError(spec, waitMs, undefined, GATE_WHY) };
      case 'tooLong':
        return { kind: 'fail', error: waitTooLong(spec, waitMs) };
      case 'deadline':
        return { kind: 'fail', error: new AtlasDeadlineError(spec, waitMs) };
    }
  }

  /** What the pace must respect for this request: its deadline, and a read's room for its create. */
  private admission(spec: CallSpec): Admission {
    const read = spec.method === 'GET' && this.deadline() !== undefined;
    return {
      sendBy: this.deadlineOf(spec),
      maxWaitMs: maxWaitFor(this.deadline()),
      readReserveMs: read ? this.createReserveMs : undefined,
    };
  }

  /** What a response says of its bucket; a 429's parameters state the bucket's shape. */
  private rateLimitInfo(spec: CallSpec, res: RawResponse): RateLimitInfo {
    const info: RateLimitInfo = {
      status: res.status,
      limit: headerNumber(res.headers['ratelimit-limit']),
      remaining: headerNumber(res.headers['ratelimit-remaining']),
      retryAfterMs: parseRetryAfter(res.headers['retry-after'], this.now()),
    };
    if (res.status !== 429) return info;
    // ["api/atlas/v2/...", retry after s, capacity, refill rate, per s]
    // Held to the bounds `/rateLimits` is held to: a `per` of 1e-320 is no bucket.
    const stated = rateLimitedParametersSchema.safeParse(apiErrorOf(spec, res).parameters);
    if (stated.success) {
      const [, , capacity, rate, per] = stated.data;
      info.shape = boundedShape(capacity, rate, per);
    }
    return info;
  }

  private onErrorStatus(spec: CallSpec, res: RawResponse): AttemptResult<RawResponse> {
    const apiError = apiErrorOf(spec, res);
    const retryAfterMs = parseRetryAfter(res.headers['retry-after'], this.now());
    // Throttled requests were not acted on: every kind of call may repeat them.
    if (res.status === 429) {
      this.stats.throttled += 1;
      // A read that would wait past its room gives way, so the few tokens left go to creates
      // of users already in flight (their lists were done) and the run progresses.
      const wait = retryAfterMs ?? 0;
      if (this.pace.refusal(spec, wait, this.admission(spec)) === 'giveWay') {
        const why = `Atlas asked to wait ${wait} ms; reads give way to certificate creation in this run`;
        return { kind: 'fail', error: new AtlasDeadlineError(spec, wait, apiError, why) };
      }
      return { kind: 'retry', reason: apiError, retryAfterMs, throttled: true };
    }
    if (RETRYABLE_5XX.has(res.status)) {
      if (spec.safety === 'safe') return { kind: 'retry', reason: apiError, retryAfterMs };
      // 503 with Retry-After is Atlas refusing the request; any other 5xx may follow a mint.
      if (spec.safety === 'create') {
        if (res.status === 503 && retryAfterMs !== undefined) {
          return { kind: 'retry', reason: apiError, retryAfterMs };
        }
        const why = `${res.status} ${apiError.errorCode}`;
        return { kind: 'fail', error: new AtlasCreateOutcomeUnknownError(spec, why, apiError) };
      }
    }
    return { kind: 'fail', error: apiError };
  }
}
