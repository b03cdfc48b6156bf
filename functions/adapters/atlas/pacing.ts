import { setTimeout as sleep } from 'node:timers/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import { asError, RotatorError } from '../../domain/errors.js';
import type { Log } from '../../domain/log.js';
import type { UserPace } from '../../domain/rotation/ports.js';
import { Bucket, type BucketShape, type RateLimitInfo } from './bucket.js';
import type { CallSpec } from './call.js';
import type { RateLimit } from './schemas.js';

export type { BucketShape, RateLimitInfo } from './bucket.js';

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

/**
 * The bounds a stated bucket must keep, whoever states it (`/rateLimits` or a 429's
 * parameters): anything outside is not a bucket Atlas has, and pacing by it would either stop
 * every request (a rate near zero) or none (a `per` of 1e-320 makes the rate Infinity and the
 * local tokens NaN). Outside them the statement is ignored and the headers pace.
 */
export const SHAPE_BOUNDS = {
  capacity: { min: 1, max: 1_000_000 },
  refillRate: { min: Number.MIN_VALUE, max: 1_000_000 },
  refillDurationSeconds: { min: 1, max: 86_400 },
  refillPerSecond: { min: 1 / 86_400, max: 1_000_000 },
} as const;

const within = (value: unknown, { min, max }: { min: number; max: number }): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;

/** A bucket from its stated capacity, refill rate and refill duration, when all are in bounds. */
export const boundedShape = (
  capacity: unknown,
  rate: unknown,
  per: unknown,
  scope?: string | undefined,
): BucketShape | undefined => {
  if (!within(capacity, SHAPE_BOUNDS.capacity) || !within(rate, SHAPE_BOUNDS.refillRate)) {
    return undefined;
  }
  if (!within(per, SHAPE_BOUNDS.refillDurationSeconds)) return undefined;
  const refillPerSecond = rate / per;
  if (!within(refillPerSecond, SHAPE_BOUNDS.refillPerSecond)) return undefined;
  return { capacity, refillPerSecond, scope };
};

/** A `/rateLimits` endpoint set as a bucket, when it states capacity and refill in bounds. */
export const publishedShape = (set: RateLimit | undefined): BucketShape | undefined =>
  boundedShape(
    set?.capacity?.value,
    set?.refillRate?.value,
    set?.refillDurationSeconds?.value,
    set?.scope,
  );

/** The certificate endpoints (list and create): the endpoint set users are paced by. */
const CERTS_PATH = /\/databaseUsers\/[^/]+\/certs$/;

/**
 * A `Retry-After` this long means a stingy bucket (a refill every several seconds): without a
 * known refill rate, reads give way to creates of users in flight, and no new user starts.
 */
export const STINGY_RETRY_AFTER_MS = 5_000;

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
  /**
   * Waits for the request's token; or says why not, and how long it would have waited. An
   * admitted request (undefined) is in flight until `settle`, which its sender calls exactly
   * once whatever ends it (a response, a reset, a timeout, an abort, a failed token).
   */
  admit(
    spec: CallSpec,
    admission: Admission,
  ): Promise<{ refused: Refusal; waitMs: number } | undefined>;
  /** The admitted request ended: it no longer counts as charged and not yet answered. */
  settle(spec: CallSpec): void;
  /** Whether a wait this long (a 429's `Retry-After`) is refused, and why. */
  refusal(spec: CallSpec, waitMs: number, admission: Admission): Refusal | undefined;
  observe(spec: CallSpec, info: RateLimitInfo): void;
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
  /**
   * Without a published scope: the headers showed one project's certificate bucket drawn on by
   * the others' requests, so it is one bucket for every project (Atlas's non-`GROUP` scopes).
   */
  private sharedByHeaders = false;
  /** Certificate requests admitted so far, every project's: what others may have drawn. */
  private certsAdmitted = 0;
  /**
   * The bucket each admitted request was admitted to, for its `settle` (which removes it): a
   * Map, so the requests in flight move with their count when the buckets become one.
   */
  private readonly admitted = new Map<CallSpec, Bucket>();

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
    const scope = this.published?.scope ?? (this.sharedByHeaders ? 'shared' : 'GROUP');
    const key = !certs
      ? `other:${groupId ?? 'organization'}`
      : scope === 'GROUP'
        ? `certs:${groupId}`
        : 'certs';
    let bucket = this.buckets.get(key);
    if (!bucket) {
      const published = certs ? this.published : undefined;
      bucket = new Bucket(this.options.maxUsers, this.now(), published, certs);
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
    bucket.reserve(); // later requests queue behind this one
    if (spec.groupId !== undefined && CERTS_PATH.test(spec.path)) this.certsAdmitted += 1;
    if (waitMs > 0) {
      bucket.queued += 1;
      await this.sleep(waitMs).finally(() => {
        bucket.queued -= 1;
      });
      // The headers showed one bucket for every project meanwhile: wait for its token instead.
      if (this.bucket(spec.groupId, spec.path) !== bucket) {
        if (spec.groupId !== undefined && CERTS_PATH.test(spec.path)) this.certsAdmitted -= 1;
        return this.admit(spec, admission);
      }
    }
    bucket.outstanding += 1;
    this.admitted.set(spec, bucket);
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

  settle(spec: CallSpec): void {
    const bucket = this.admitted.get(spec);
    if (!bucket) return;
    this.admitted.delete(spec);
    bucket.outstanding = Math.max(0, bucket.outstanding - 1);
  }

  /** What one response said (a Digest challenge and its answer are two, of one admission). */
  observe(spec: CallSpec, info: RateLimitInfo): void {
    const bucket = this.admitted.get(spec) ?? this.bucket(spec.groupId, spec.path);
    const shared = bucket.observe(info, this.now(), this.certsAdmitted);
    // Learnt once: from now on every project's certificate requests draw on one bucket.
    if (shared && !this.published && spec.groupId !== undefined && CERTS_PATH.test(spec.path)) {
      this.shareCerts(bucket, spec);
    }
  }

  /**
   * From now on every project's certificate requests draw on one bucket. It starts from what
   * `from` learnt, and the requests in flight against every project's bucket move to it (their
   * answers and settles land there): a bucket starting blank sent unchecked until its first
   * answer, tens of 429s in a steady run paced by the headers.
   */
  private shareCerts(from: Bucket, spec: CallSpec): void {
    if (this.sharedByHeaders) return;
    this.sharedByHeaders = true;
    const one = this.bucket(spec.groupId, spec.path);
    const projects = new Set(
      [...this.buckets].filter(([key]) => key.startsWith('certs:')).map(([, b]) => b),
    );
    let othersInFlight = 0;
    for (const [inFlight, was] of this.admitted) {
      if (!projects.has(was)) continue;
      if (was !== from) othersInFlight += 1;
      was.outstanding = Math.max(0, was.outstanding - 1);
      one.outstanding += 1;
      this.admitted.set(inFlight, one);
    }
    one.adopt(from, othersInFlight, this.now());
  }
}
