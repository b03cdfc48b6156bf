/**
 * Atlas's rate-limit model (reference §3): a token bucket with a capacity and a refill rate; an
 * empty bucket answers 429 `RATE_LIMITED_TOKEN_BUCKET` with `Retry-After` in whole seconds.
 */

export interface RateLimitOptions {
  /** Bucket size, reported as `Ratelimit-Limit`. */
  capacity: number;
  /** Tokens added per second of simulator time (fractions allowed). */
  refillPerSecond: number;
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
