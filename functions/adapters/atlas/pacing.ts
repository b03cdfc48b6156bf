import pLimit, { type LimitFunction } from 'p-limit';
import { type RateLimitInfo, STINGY_RETRY_AFTER_MS } from './transport.js';

/**
 * Where a run starts before Atlas's rate-limit headers have said anything: low, because the
 * bucket may hold only a handful of tokens; lists answer in ~55 ms, so growth is quick.
 */
const START = 2;

/**
 * Users in flight, paced by Atlas's own rate-limit headers instead of hammering into 429s.
 * Every user in flight may still need a token (its create), so the tokens left beyond them
 * (the headroom) decide: one more user while the headroom is over a quarter of the bucket,
 * one fewer when it is negative, half as many below a tenth of the bucket or on a 429
 * (additive increase, multiplicative decrease). Atlas publishes no refill rates, so the
 * headers are the only honest signal; without them the concurrency stays where it is.
 */
export class AdaptiveConcurrency {
  readonly limit: LimitFunction;
  private pausedUntil = 0;

  constructor(
    private readonly max: number,
    private readonly now: () => number = Date.now,
  ) {
    this.limit = pLimit(Math.min(START, max));
  }

  /**
   * Whether Atlas asked for a long pause that has not passed: the budget then goes to users
   * already in flight (their creates) rather than to listing new ones.
   */
  get paused(): boolean {
    return this.now() < this.pausedUntil;
  }

  get current(): number {
    return this.limit.concurrency;
  }

  observe(info: RateLimitInfo): void {
    if (info.status === 429) {
      this.set(Math.floor(this.current / 2));
      const wait = info.retryAfterMs ?? 0;
      if (wait >= STINGY_RETRY_AFTER_MS)
        this.pausedUntil = Math.max(this.pausedUntil, this.now() + wait);
    } else if (info.limit !== undefined && info.remaining !== undefined && info.limit > 0) {
      const headroom = (info.remaining - this.limit.activeCount) / info.limit;
      if (info.remaining / info.limit < 0.1) this.set(Math.floor(this.current / 2));
      else if (headroom > 0.25) this.set(this.current + 1);
      else if (headroom < 0) this.set(this.current - 1);
    }
  }

  private set(value: number): void {
    this.limit.concurrency = Math.max(1, Math.min(this.max, value));
  }
}
