import pLimit, { type LimitFunction } from 'p-limit';
import type { RotatorConfig } from '../config/types.js';
import type { Consumers } from '../consumers.js';
import { DeadlineError } from '../errors.js';
import type { Log } from '../log.js';
import { CREATE_RESERVE_MS, VERIFY_TIMEOUT_MS } from '../timing.js';
import { Ledger } from './ledger.js';
import type {
  AtlasPort,
  Clock,
  LeasePort,
  LoginCheckPort,
  SecretStorePort,
  UserPace,
} from './ports.js';
import { isForced, type RotationRequest, type UserRef } from './request.js';

/** What a run is given, and the one small object every phase of it shares. */

export interface RotationTuning {
  /**
   * Do not start a create attempt with less time than this before the deadline or the lease's
   * end: the create's timeout and the worst case of storing its key. @default CREATE_RESERVE_MS
   */
  minTimeForMintMs: number;
  /** A held certificate younger than this may be missing from Atlas's list (lag). @default 1h */
  listLagGraceMs: number;
  /** Lists after a mint until Atlas shows the new serial. @default 3 */
  confirmAttempts: number;
  /** @default 2000 */
  confirmDelayMs: number;
  /**
   * Each secret's resource policy is read on one day in this many (its name's hash picks the
   * day), to find a policy changed by hand (`reconcile.ts`). @default 7
   */
  policyAuditDays: number;
  /** All of one login check (`verify.uri`), the deadline permitting. @default VERIFY_TIMEOUT_MS */
  verifyTimeoutMs: number;
}

export const DEFAULT_TUNING: RotationTuning = {
  minTimeForMintMs: CREATE_RESERVE_MS,
  listLagGraceMs: 3_600_000,
  confirmAttempts: 3,
  confirmDelayMs: 2_000,
  policyAuditDays: 7,
  verifyTimeoutMs: VERIFY_TIMEOUT_MS,
};

export interface RotationContext {
  config: RotatorConfig;
  atlas: AtlasPort;
  store: SecretStorePort;
  leases: LeasePort;
  log: Log;
  clock: Clock;
  runId: string;
  /** Epoch ms by which the run must be done (the Lambda timeout, less a margin). */
  deadline?: (() => number | undefined) | undefined;
  tuning?: Partial<RotationTuning> | undefined;
  /** Bounds and paces the users in flight. @default `rotation.concurrency`, never paused */
  pace?: UserPace | undefined;
  /** Told after each user's row: how many of the run's users are done (the CLI's progress). */
  progress?: ((done: number, total: number) => void) | undefined;
  /** Who may read each project's secrets (`ROTATOR_CONSUMERS`). @default nobody */
  consumers?: Consumers | undefined;
  /**
   * Proves a new certificate can log in, for projects with `verify.uri`. A project with one and
   * no check here holds every new certificate back (VERIFY_FAILED). @default none
   */
  loginCheck?: LoginCheckPort | undefined;
}

/** The state of one run, shared by its phases. */
export interface Run {
  readonly ctx: RotationContext;
  readonly request: RotationRequest;
  readonly tuning: RotationTuning;
  readonly ledger: Ledger;
  readonly pace: UserPace;
  /** The lease table's check, made once when the first user turns out due. */
  leaseTableChecked: Promise<void> | undefined;
}

export const startRun = (ctx: RotationContext, request: RotationRequest): Run => ({
  ctx,
  request,
  tuning: { ...DEFAULT_TUNING, ...ctx.tuning },
  ledger: new Ledger(ctx.log),
  pace: ctx.pace ?? fixedPace(pLimit(ctx.config.rotation.concurrency)),
  leaseTableChecked: undefined,
});

/** One limit for every project, never paused: runs without an Atlas pacing (tests, fakes). */
export const fixedPace = (limit: LimitFunction): UserPace => ({
  run: (_projectId, work) => limit(work),
  paused: () => false,
});

/** Milliseconds left before the run's deadline; infinite without one. */
export const timeLeft = (run: Run): number => {
  const deadline = run.ctx.deadline?.();
  return deadline === undefined
    ? Number.POSITIVE_INFINITY
    : deadline - run.ctx.clock.now().getTime();
};

/** Too little time left to start a mint (and store its key) safely. */
export const outOfTime = (run: Run): boolean => timeLeft(run) < run.tuning.minTimeForMintMs;

/** A lease is trusted until this long before it lapses (clock skew between runs). */
export const LEASE_MARGIN_MS = 30_000;

/**
 * Checked right before a create: the run's deadline and the user's lease (a run without a
 * deadline, like the CLI without --time-budget, is still bounded by it) must leave room for the
 * create and the store of its key. Returns the epoch ms after which no attempt of this create
 * may start (the Atlas client checks it again before each retry of a throttled create);
 * otherwise the user is deferred, nothing minted.
 */
export const createStartBy = (run: Run, leaseUntil: number): number => {
  const now = run.ctx.clock.now().getTime();
  const leaseLeft = leaseUntil - LEASE_MARGIN_MS - now;
  const left = Math.min(timeLeft(run), leaseLeft);
  if (left >= run.tuning.minTimeForMintMs) return now + left - run.tuning.minTimeForMintMs;
  const bound = leaseLeft < timeLeft(run) ? 'the lease on this user' : 'the run';
  throw new DeadlineError(
    `not creating: ${Math.max(0, Math.round(left / 1000))} s left of ${bound}, a create and its store need ${run.tuning.minTimeForMintMs / 1000} s; the next run continues`,
    {
      code: 'DEADLINE_EXCEEDED',
      remedy: 'Nothing was minted; the next run continues the work.',
      scope: 'user',
    },
  );
};

export const forcedFor = (run: Run, user: UserRef): boolean => isForced(run.request, user);
