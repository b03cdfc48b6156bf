import { setTimeout as sleep } from 'node:timers/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import { asError, RotatorError } from '../../domain/errors.js';
import type { Log } from '../../domain/log.js';
import type { UserPace } from '../../domain/rotation/ports.js';
import type { CallSpec } from './call.js';
import type { RateLimit } from './schemas.js';

/**
 * Pacing by Atlas's rate limits: a token bucket per endpoint set and scope (Atlas's Admin API
 * rate limiting, https://www.mongodb.com/docs/atlas/api/api-rate-limit/). The certificate
 * endpoints are paced per project (scope `GROUP`) unless `/rateLimits` says otherwise, so a
 * fleet over many projects spends every project's bucket at once.
 *
 * Two things per bucket:
 * - **requests**: once the bucket's shape is known (from `/rateLimits`, or from a 429's
 *   parameters: "Request capacity: 10. Refill rate: 5 per 60 seconds"), each request reserves a
 *   token of a local copy of the bucket and waits for it, corrected by `RateLimit-Remaining`, so
 *   the bucket is spent at its refill rate without 429s. Before that, only a 429's
 *   `Retry-After` holds requests back (every request of the bucket, not only the refused one).
 * - **users in flight**: each user needs up to two tokens (its list, then its create); a
 *   bucket's users start at what its published shape allows, else at 2, and follow its headers
 *   (additive increase, multiplicative decrease), under the run's `rotation.concurrency`.
 */

/** What Atlas says of one bucket. */
export interface BucketShape {
  capacity: number;
  refillPerSecond: number;
  /** `GROUP`: one bucket per project; anything else: one bucket for all of them. */
  scope?: string | undefined;
}

/** A `/rateLimits` endpoint set as a bucket, when it states capacity and refill. */
export const publishedShape = (set: RateLimit | undefined): BucketShape | undefined => {
  const capacity = set?.capacity?.value;
  const rate = set?.refillRate?.value;
  const per = set?.refillDurationSeconds?.value;
  if (!capacity || !rate || !per || capacity < 1 || rate <= 0 || per <= 0) return undefined;
  return { capacity, refillPerSecond: rate / per, scope: set?.scope };
};

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

/** The certificate endpoints (list and create): the endpoint set users are paced by. */
const CERTS_PATH = /\/databaseUsers\/[^/]+\/certs$/;

/** Where a bucket starts without a published shape: a bucket may hold only a handful of tokens. */
const START = 2;

/**
 * A `Retry-After` this long means a stingy bucket (a refill every several seconds): without a
 * known refill rate, reads give way to creates of users in flight, and no new user starts.
 */
export const STINGY_RETRY_AFTER_MS = 5_000;

/** A user's chain without waits (list, create, the writes between): how long it holds a slot. */
const USER_CHAIN_SECONDS = 2;

/** Why a request was not admitted: past its deadline, a longer wait than allowed, a read giving way. */
export type Refusal = 'deadline' | 'tooLong' | 'giveWay';

/** What a request asks of the pace. */
export interface Admission {
  /** The latest epoch ms the request may be sent. */
  sendBy: number | undefined;
  /** The longest wait allowed whatever `sendBy` says (a run without a deadline). */
  maxWaitMs?: number | undefined;
  /**
   * A read in a run with a deadline: it must leave room, after its own token, for its user's
   * create and the store of its key (this long before `sendBy`).
   */
  readReserveMs?: number | undefined;
}

export interface RequestPace {
  /** Waits for the request's token; or says why not, and how long it would have waited. */
  admit(
    spec: CallSpec,
    admission: Admission,
  ): Promise<{ refused: Refusal; waitMs: number } | undefined>;
  /** Whether a wait this long (a 429's `Retry-After`) is refused, and why. */
  refusal(spec: CallSpec, waitMs: number, admission: Admission): Refusal | undefined;
  observe(spec: CallSpec, info: RateLimitInfo): void;
}

class Bucket {
  shape: BucketShape | undefined;
  /** Local copy of the bucket at `at`; below zero when tokens are reserved ahead. */
  tokens = 0;
  at = 0;
  /** Sent and not answered: the server charged them, its `remaining` may not show it yet. */
  outstanding = 0;
  pausedUntil = 0;
  readonly users: LimitFunction;

  constructor(
    private readonly maxUsers: number,
    now: number,
    shape: BucketShape | undefined,
  ) {
    this.users = pLimit(Math.min(START, maxUsers));
    if (shape) this.reshape(shape, now, true);
  }

  reshape(shape: BucketShape, now: number, fresh = false): void {
    const first = this.shape === undefined;
    this.shape = shape;
    if (first) {
      this.tokens = fresh ? shape.capacity : 0;
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
    if (!this.shape) return pause;
    this.refill(now);
    const short = 1 - this.tokens;
    return Math.max(pause, short > 0 ? (short / this.shape.refillPerSecond) * 1000 : 0);
  }

  /** Milliseconds between two tokens; unknown without a shape. */
  get intervalMs(): number {
    return this.shape ? 1000 / this.shape.refillPerSecond : 0;
  }

  observe(info: RateLimitInfo, now: number): void {
    if (info.shape) this.reshape(info.shape, now);
    if (info.status === 429) {
      this.setUsers(Math.floor(this.users.concurrency / 2));
      const wait = info.retryAfterMs ?? 0;
      this.pausedUntil = Math.max(this.pausedUntil, now + wait);
      if (this.shape) {
        // Atlas has a token again only after `wait`: the copy must agree.
        this.refill(now);
        const perMs = this.shape.refillPerSecond / 1000;
        this.tokens = Math.min(this.tokens, 1 - wait * perMs - this.outstanding);
      }
      return;
    }
    const { limit, remaining } = info;
    if (limit === undefined || remaining === undefined || limit <= 0) return;
    if (this.shape) {
      // Atlas knows best: someone else may draw on the same bucket. Only ever downward, since
      // requests charged but not answered are not in its count yet.
      this.refill(now);
      this.tokens = Math.min(this.tokens, remaining - this.outstanding);
      if (limit !== this.shape.capacity) this.shape = { ...this.shape, capacity: limit };
      return;
    }
    // No shape: the headers are the only signal. Each user in flight may still need a token.
    const headroom = (remaining - this.users.activeCount) / limit;
    if (remaining / limit < 0.1) this.setUsers(Math.floor(this.users.concurrency / 2));
    else if (headroom > 0.25) this.setUsers(this.users.concurrency + 1);
    else if (headroom < 0) this.setUsers(this.users.concurrency - 1);
  }

  setUsers(value: number): void {
    this.users.concurrency = Math.max(1, Math.min(this.maxUsers, value));
  }
}

/** The one Atlas call the pacing makes itself. */
export interface RateLimitSource {
  getCertificateRateLimit(groupId: string): Promise<RateLimit | undefined>;
}

export interface PacingOptions {
  /** The most users in flight over all buckets (`rotation.concurrency`). */
  maxUsers: number;
  now?: () => number;
  /** Waits for a token (tests pass a fake clock's). */
  sleep?: (ms: number) => Promise<unknown>;
}

/** Both sides of the pacing: the engine's users (`UserPace`) and the transport's requests. */
export class RateLimitPacing implements RequestPace, UserPace {
  private readonly buckets = new Map<string, Bucket>();
  private readonly allUsers: LimitFunction;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<unknown>;
  /** The certificate endpoints' bucket as `/rateLimits` published it, for every project. */
  private published: BucketShape | undefined;

  constructor(private readonly options: PacingOptions) {
    this.allUsers = pLimit(options.maxUsers);
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? sleep;
  }

  /**
   * Reads the certificate endpoints' published bucket once per run, when the credential may
   * (Project Read Only on the project): every project's bucket starts from it instead of from
   * 2 users. Anything else (refused, unknown, no shape) leaves the headers to pace.
   */
  async prime(atlas: RateLimitSource, projectId: string | undefined, log: Log): Promise<void> {
    if (projectId === undefined) return;
    try {
      const shape = publishedShape(await atlas.getCertificateRateLimit(projectId));
      if (shape) this.publish(shape);
      log.debug('rate limits', shape ? { ...shape } : { published: false });
    } catch (err) {
      const why = err instanceof RotatorError ? err.code : asError(err).name;
      log.debug('rate limits not readable; pacing follows the headers', { why });
    }
  }

  /** Atlas's published bucket for the certificate endpoints: every project starts from it. */
  publish(shape: BucketShape): void {
    this.published = shape;
    for (const [key, bucket] of this.buckets) {
      if (key.startsWith('certs')) bucket.reshape(shape, this.now());
    }
  }

  /** What the pacing knows, for the report. */
  get source(): 'published' | 'headers' {
    return this.published ? 'published' : 'headers';
  }

  /**
   * The certificate endpoints' bucket of a project (or of all, when Atlas's scope is not
   * `GROUP`); every other endpoint set has buckets of its own, paced by their headers only.
   */
  private bucket(groupId: string | undefined, path?: string): Bucket {
    const certs = groupId !== undefined && (path === undefined || CERTS_PATH.test(path));
    const scope = this.published?.scope;
    const key = !certs
      ? `other:${groupId ?? 'organization'}`
      : scope === undefined || scope === 'GROUP'
        ? `certs:${groupId}`
        : 'certs';
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new Bucket(this.options.maxUsers, this.now(), certs ? this.published : undefined);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  // --- the engine's side ---------------------------------------------------------------------

  /** Runs one user's work when its bucket and the run have room for it. */
  run<T>(projectId: string, work: () => Promise<T>): Promise<T> {
    return this.bucket(projectId).users(() => this.allUsers(work));
  }

  /** How many of this project's users may be in flight now. */
  usersFor(projectId: string): number {
    return this.bucket(projectId).users.concurrency;
  }

  /** Atlas asked this project's bucket for a long pause: new users wait for the next run. */
  paused(projectId: string): boolean {
    const bucket = this.bucket(projectId);
    return !bucket.shape && bucket.pausedUntil - this.now() >= STINGY_RETRY_AFTER_MS;
  }

  // --- the transport's side ------------------------------------------------------------------

  async admit(
    spec: CallSpec,
    admission: Admission,
  ): Promise<{ refused: Refusal; waitMs: number } | undefined> {
    const bucket = this.bucket(spec.groupId, spec.path);
    const now = this.now();
    const waitMs = bucket.waitFor(now);
    const refused = this.refusalIn(bucket, now, waitMs, admission);
    if (refused) return { refused, waitMs };
    if (bucket.shape) bucket.tokens -= 1; // reserved: later requests queue behind this one
    if (waitMs > 0) await this.sleep(waitMs);
    bucket.outstanding += 1;
    return undefined;
  }

  refusal(spec: CallSpec, waitMs: number, admission: Admission): Refusal | undefined {
    return this.refusalIn(this.bucket(spec.groupId, spec.path), this.now(), waitMs, admission);
  }

  private refusalIn(
    bucket: Bucket,
    now: number,
    waitMs: number,
    { sendBy, maxWaitMs, readReserveMs }: Admission,
  ): Refusal | undefined {
    if (sendBy !== undefined && now + waitMs > sendBy) return 'deadline';
    if (maxWaitMs !== undefined && waitMs > maxWaitMs) return 'tooLong';
    if (readReserveMs === undefined || sendBy === undefined) return undefined;
    if (!bucket.shape) return waitMs >= STINGY_RETRY_AFTER_MS ? 'giveWay' : undefined;
    // A token at hand is spent (the engine decides whether a create still fits). A wait is
    // worth it only if its user's create, after the tokens of the other users in flight, fits.
    if (waitMs <= 0) return undefined;
    const createAt = now + waitMs + bucket.intervalMs * Math.max(1, bucket.users.activeCount);
    return createAt > sendBy - readReserveMs ? 'giveWay' : undefined;
  }

  observe(spec: CallSpec, info: RateLimitInfo): void {
    const bucket = this.bucket(spec.groupId, spec.path);
    bucket.outstanding = Math.max(0, bucket.outstanding - 1);
    bucket.observe(info, this.now());
  }
}
