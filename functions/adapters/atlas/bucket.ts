import pLimit, { type LimitFunction } from 'p-limit';

/**
 * One Atlas token bucket as the pacing sees it (`pacing.ts`): its shape when known, a local copy
 * of its tokens, the requests in flight against it, and the users it lets run.
 *
 * Without a published shape (`/rateLimits` refused or absent) the bucket is learnt from the
 * headers before any 429: `RateLimit-Limit` is its capacity, `RateLimit-Remaining` (less what is
 * in flight) its tokens, and once they run out one wait of `PROBE_MS` measures the refill (what
 * `RateLimit-Remaining` shows after it is at least what refilled). Until then, a request is sent
 * only while the headers say a token is left.
 */

/** What Atlas says of one bucket. */
export interface BucketShape {
  capacity: number;
  refillPerSecond: number;
  /** `GROUP`: one bucket per project; anything else: one bucket for all of them. */
  scope?: string | undefined;
}

/** What one response says about its bucket (headers may be absent). */
export interface RateLimitInfo {
  status: number;
  limit: number | undefined;
  remaining: number | undefined;
  /** From `Retry-After`, on a 429 or 503. */
  retryAfterMs: number | undefined;
  /** A 429's parameters, when they state the bucket. */
  shape?: BucketShape | undefined;
}

/** Where a bucket starts without a published shape: a bucket may hold only a handful of tokens. */
const START = 2;

/** A user's chain without waits (list, create, the writes between): how long it holds a slot. */
const USER_CHAIN_SECONDS = 2;

/** How long a bucket the headers show empty is left to refill before its refill is measured. */
export const PROBE_MS = 1_000;

export class Bucket {
  shape: BucketShape | undefined;
  /** The shape was measured from the headers: their `remaining` corrects the copy both ways. */
  learnt = false;
  /** Local copy of the bucket at `at`; below zero when tokens are reserved ahead. */
  tokens = 0;
  /** Without a shape: whether `tokens` holds what the headers said (less what was sent since). */
  counted = false;
  at = 0;
  /** Sent and not answered: the server charged them, its `remaining` may not show it yet. */
  outstanding = 0;
  /** Reserved a token and waiting for it: not sent yet. */
  queued = 0;
  pausedUntil = 0;
  /** Requests admitted since the last success's headers, and what was in flight then. */
  private sinceLast = {
    remaining: undefined as number | undefined,
    admitted: 0,
    inFlight: 0,
    /** Certificate requests admitted to every bucket of the run, then. */
    everywhere: 0,
  };
  /** Without a shape: when the headers showed no token left, and what was in flight then. */
  private empty: { since: number; inFlight: number } | undefined;
  readonly users: LimitFunction;

  /**
   * @param learns whether the headers gate requests before a shape is known: the certificate
   *   buckets only (users are paced by them); other endpoints' buckets wait for a 429.
   */
  constructor(
    private readonly maxUsers: number,
    now: number,
    shape: BucketShape | undefined,
    private learns = false,
  ) {
    this.users = pLimit(Math.min(START, maxUsers));
    if (shape) this.reshape(shape, now, true);
  }

  reshape(shape: BucketShape, now: number, fresh = false): void {
    const first = this.shape === undefined;
    this.shape = shape;
    if (first) {
      this.tokens = fresh ? shape.capacity : this.counted ? Math.min(this.tokens, 0) : 0;
      this.at = now;
      // Every user may need two tokens: whole users of the bucket's burst, then what its refill
      // sustains while a user's chain runs.
      const burst = Math.floor(shape.capacity / 2);
      const sustained = Math.floor((shape.refillPerSecond * USER_CHAIN_SECONDS) / 2);
      this.setUsers(Math.max(1, burst + sustained));
    }
  }

  /** Tokens now, refilled since `at`. */
  refill(now: number): void {
    if (!this.shape) return;
    const elapsed = Math.max(0, now - this.at) / 1000;
    this.tokens = Math.min(this.shape.capacity, this.tokens + elapsed * this.shape.refillPerSecond);
    this.at = now;
  }

  /** How long until a token reserved now is there, given the 429 pause. */
  waitFor(now: number): number {
    const pause = Math.max(0, this.pausedUntil - now);
    if (!this.shape) {
      // The headers said no token is left: wait for the refill to be measured.
      if (!this.counted || this.tokens >= 1) return pause;
      this.empty ??= { since: now, inFlight: this.outstanding };
      return Math.max(pause, this.empty.since + PROBE_MS - now);
    }
    this.refill(now);
    const short = 1 - this.tokens;
    return Math.max(pause, short > 0 ? (short / this.shape.refillPerSecond) * 1000 : 0);
  }

  /** A request takes its token now (reserved ahead when it must wait for it). */
  reserve(): void {
    this.sinceLast.admitted += 1;
    if (this.shape || this.counted) this.tokens -= 1;
  }

  /**
   * Whether a success's `remaining` fell by more than this bucket's own requests explain (the
   * ones sent since the last, and those in flight then, plus one for rounding) while other
   * buckets' requests were sent: they draw on this one. A refill only ever raises it.
   */
  private drawnByOthers(remaining: number, others: number, everywhere: number): boolean {
    const last = this.sinceLast;
    const elsewhere = everywhere - last.everywhere - last.admitted;
    const drawn =
      last.remaining !== undefined &&
      elsewhere > 0 &&
      last.remaining - remaining > last.admitted + last.inFlight + 2;
    this.sinceLast = { remaining, admitted: 0, inFlight: others, everywhere };
    return drawn;
  }

  /** Milliseconds between two tokens; unknown without a shape. */
  get intervalMs(): number {
    return this.shape ? 1000 / this.shape.refillPerSecond : 0;
  }

  /** Takes in a response; true when its headers show others drawing on this bucket. */
  observe(info: RateLimitInfo, now: number, everywhere = 0): boolean {
    if (info.shape) this.reshape(info.shape, now);
    // The answered request is settled after this; the others are charged and not yet counted.
    const others = Math.max(0, this.outstanding - 1);
    if (info.status === 429) {
      this.setUsers(Math.floor(this.users.concurrency / 2));
      const wait = info.retryAfterMs ?? 0;
      this.pausedUntil = Math.max(this.pausedUntil, now + wait);
      if (this.shape) {
        // Atlas has a token again only after `wait`: the copy must agree.
        this.refill(now);
        const perMs = this.shape.refillPerSecond / 1000;
        this.tokens = Math.min(this.tokens, 1 - wait * perMs - others);
      }
      return false;
    }
    const { limit, remaining } = info;
    if (limit === undefined || remaining === undefined || limit <= 0) return false;
    const shared = this.drawnByOthers(remaining, others, everywhere);
    // What is surely left for requests not sent yet: in flight may be charged, queued will be.
    const left = remaining - others - this.queued;
    if (this.shape) {
      this.refill(now);
      // Atlas knows best: someone else may draw on the same bucket. A stated shape's copy only
      // ever goes down; a measured one follows the headers both ways (its refill is a floor).
      this.tokens = this.learnt ? left : Math.min(this.tokens, remaining - others);
      if (limit !== this.shape.capacity) this.shape = { ...this.shape, capacity: limit };
      return shared;
    }
    this.learn(limit, remaining, left, now);
    // No shape: the headers are the only signal. Each user in flight may still need a token.
    const headroom = (remaining - this.users.activeCount) / limit;
    if (remaining / limit < 0.1) this.setUsers(Math.floor(this.users.concurrency / 2));
    else if (headroom > 0.25) this.setUsers(this.users.concurrency + 1);
    else if (headroom < 0) this.setUsers(this.users.concurrency - 1);
    return shared;
  }

  /**
   * Learns the bucket from a success's headers: its tokens now, and, after a wait on an empty
   * bucket, its refill. After `E` seconds empty, `remaining` is at most `E × refill` plus the
   * token left then and less what was charged since; what was in flight then may have been
   * charged after: `(remaining − in flight then) / E` is a floor of the refill.
   */
  private learn(limit: number, remaining: number, left: number, now: number) {
    if (!this.learns) return;
    this.tokens = left;
    this.counted = true;
    const empty = this.empty;
    if (!empty || now < empty.since + PROBE_MS) return;
    const seconds = (now - empty.since) / 1000;
    const refill = (remaining - empty.inFlight) / seconds;
    if (refill <= 0) {
      // Too slow to show within the wait (or others spend it all): no more header gating;
      // the first 429's parameters will state the bucket.
      this.empty = undefined;
      this.counted = false;
      this.learns = false;
      return;
    }
    this.empty = undefined;
    this.learnt = true;
    this.reshape({ capacity: limit, refillPerSecond: refill }, now);
    this.tokens = left;
  }

  /**
   * Takes over what a project's bucket learnt when the headers showed every project drawing on
   * one bucket: its count, its shape and its probe, less what the other projects have in flight
   * (moved here by the pacing). A fresh bucket would send unchecked until its first answer.
   */
  adopt(from: Bucket, othersInFlight: number, now: number): void {
    this.learns = from.learns;
    this.counted = from.counted;
    this.learnt = from.learnt;
    this.shape = from.shape;
    from.refill(now);
    this.tokens = from.tokens - (from.counted || from.shape ? othersInFlight : 0);
    this.at = now;
    this.pausedUntil = Math.max(this.pausedUntil, from.pausedUntil);
    this.empty = from.empty && { ...from.empty, inFlight: from.empty.inFlight + othersInFlight };
    this.sinceLast = { ...from.sinceLast };
  }

  setUsers(value: number): void {
    this.users.concurrency = Math.max(1, Math.min(this.maxUsers, value));
  }
}
