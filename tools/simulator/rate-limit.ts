/**
 * Atlas's rate-limit model (https://www.mongodb.com/docs/atlas/api/api-rate-limit/): a token
 * bucket with a capacity and a refill rate; an empty bucket answers 429
 * `RATE_LIMITED_TOKEN_BUCKET` with `Retry-After` in whole seconds.
 */

export interface RateLimitOptions {
  /** Bucket size, reported as `Ratelimit-Limit`. */
  capacity: number;
  /** Tokens added per second of simulator time (fractions allowed). */
  refillPerSecond: number;
  /**
   * `project`: one bucket per project for the certificate endpoints (an endpoint set in Atlas's
   * `GROUP` scope), every other endpoint unlimited; `shared`: one bucket for every request.
   * @default 'shared'
   */
  scope?: 'shared' | 'project';
}

/** How `/rateLimits` states a refill: a whole number per second, else per minute. */
export const publishedRefill = (
  refillPerSecond: number,
): { refillRate: number; refillDurationSeconds: number } =>
  Number.isInteger(refillPerSecond)
    ? { refillRate: refillPerSecond, refillDurationSeconds: 1 }
    : { refillRate: Math.round(refillPerSecond * 60), refillDurationSeconds: 60 };

/** The buckets of one configuration, made on first use, all starting full. */
export class TokenBuckets {
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(
    readonly options: RateLimitOptions,
    private readonly nowMs: () => number,
  ) {
    new TokenBucket(options, nowMs()); // validates the options now, not on the first request
  }

  /** The bucket a request to `rawPath` draws from; undefined: none. */
  take(rawPath: string): TakeResult | undefined {
    const certs = /^\/api\/atlas\/v2\/groups\/([^/]+)\/databaseUsers\/[^/]+\/certs$/.exec(rawPath);
    if (this.options.scope === 'project' && !certs) return undefined;
    const key = this.options.scope === 'project' ? `certs:${certs?.[1]}` : 'shared';
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.options, this.nowMs());
      this.#buckets.set(key, bucket);
    }
    return bucket.take(this.nowMs());
  }
}

export type TakeResult =
  | { ok: true; limit: number; remaining: number }
  | { ok: false; limit: number; retryAfterSeconds: number };

/** A token bucket driven by the simulator clock, so tests can refill it by moving time. */
export class TokenBucket {
  #tokens: number;
  #lastRefillMs: number;

  constructor(
    readonly options: RateLimitOptions,
    nowMs: number,
  ) {
    if (!(options.capacity >= 1)) throw new RangeError('rateLimit.capacity must be >= 1');
    if (!(options.refillPerSecond > 0))
      throw new RangeError('rateLimit.refillPerSecond must be > 0');
    this.#tokens = options.capacity;
    this.#lastRefillMs = nowMs;
  }

  take(nowMs: number): TakeResult {
    const { capacity, refillPerSecond } = this.options;
    // A clock moved backwards (tests do that) must not drain the bucket.
    const elapsedSeconds = Math.max(0, nowMs - this.#lastRefillMs) / 1000;
    this.#tokens = Math.min(capacity, this.#tokens + elapsedSeconds * refillPerSecond);
    this.#lastRefillMs = nowMs;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return { ok: true, limit: capacity, remaining: Math.floor(this.#tokens) };
    }
    const secondsUntilOneToken = (1 - this.#tokens) / refillPerSecond;
    return {
      ok: false,
      limit: capacity,
      retryAfterSeconds: Math.max(1, Math.ceil(secondsUntilOneToken)),
    };
  }
}

/** Without a configured bucket, Atlas-like headers anyway: limit 1200, remaining never reaching 0. */
export class UnlimitedCounter {
  static readonly LIMIT = 1200;
  #calls = 0;

  take(): TakeResult & { ok: true } {
    const remaining = UnlimitedCounter.LIMIT - 1 - (this.#calls % (UnlimitedCounter.LIMIT - 1));
    this.#calls += 1;
    return { ok: true, limit: UnlimitedCounter.LIMIT, remaining };
  }
}
