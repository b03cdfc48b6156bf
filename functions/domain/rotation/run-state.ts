import pLimit, { type LimitFunction } from 'p-limit';
import type { RotatorConfig } from '../config/types.js';
import type { Consumers } from '../consumers.js';
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

/** What a run is given (context, tuning), and the one small object every phase of it shares. */

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
   * day), to find a policy changed by hand (`upkeep/drift.ts`). @default 7
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

/** Does the run's request force a mint for this user? */
export const forcedFor = (run: Run, user: UserRef): boolean => isForced(run.request, user);
