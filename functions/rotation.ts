import pLimit from 'p-limit';
import type { AtlasCertificate, AtlasClient } from './atlas/client.js';
import { AtlasCreateOutcomeUnknownError, AtlasDeadlineError } from './atlas/errors.js';
import { type ValidatedCertificate, validateBundle } from './certificate.js';
import {
  discoveredUserSettings,
  type ProjectSettings,
  type RotatorConfig,
  type UserSettings,
} from './config.js';
import { asError, RotatorError } from './errors.js';
import { type LeaseTable, leaseKey } from './lease.js';
import type { Log } from './log.js';
import {
  ATLAS_BACKDATE_MS,
  byUrgency,
  type CertificateDates,
  type Decision,
  decide,
  findOrphans,
  heldButUnlisted,
  type ListedCertificate,
  recentOrphans,
} from './plan.js';
import { type RunFailure, type RunReport, summarize, type UserReport } from './report.js';
import {
  parseCurrentValue,
  type SecretState,
  type SecretStore,
  serializeStored,
  versionIdFor,
} from './store.js';

/**
 * Orchestration of one rotation run: what the Lambda handler and the CLI both call. It knows
 * nothing of Lambda or terminals; its collaborators come in as arguments.
 */

export type AtlasApi = Pick<
  AtlasClient,
  'listCertificates' | 'createCertificate' | 'listDatabaseUsers'
>;

export interface UserRef {
  projectId: string;
  username: string;
}

export interface RotationRequest {
  /** List, evaluate and report; mint nothing, write nothing, take no lease. */
  dryRun: boolean;
  /** Mint even for users that are not due (only for the users `only` names, or all with `all`). */
  force: boolean;
  /** Restrict the run to these users. */
  only?: UserRef[] | undefined;
  /** With `force`: every user. */
  all?: boolean | undefined;
}

export interface RotationTuning {
  /** Do not start a mint with less time than this before the deadline. @default 90000 */
  minTimeForMintMs: number;
  /** A held certificate younger than this may be missing from Atlas's list (lag). @default 1h */
  listLagGraceMs: number;
  /** Lists after a mint until Atlas shows the new serial. @default 3 */
  confirmAttempts: number;
  /** @default 2000 */
  confirmDelayMs: number;
}

export const DEFAULT_TUNING: RotationTuning = {
  minTimeForMintMs: 90_000,
  listLagGraceMs: 3_600_000,
  confirmAttempts: 3,
  confirmDelayMs: 2_000,
};

export interface RotationContext {
  config: RotatorConfig;
  atlas: AtlasApi;
  store: SecretStore;
  leases: LeaseTable;
  log: Log;
  runId: string;
  now: () => Date;
  /** Epoch ms by which the run must be done (the Lambda timeout, less a margin). */
  deadline?: (() => number | undefined) | undefined;
  tuning?: Partial<RotationTuning> | undefined;
  sleep?: ((ms: number) => Promise<void>) | undefined;
}

/** Raised for a request that contradicts itself (e.g. `force` without `only` or `all`). */
export class RequestError extends RotatorError {
  constructor(message: string) {
    super(message, {
      code: 'INVALID_REQUEST',
      remedy: 'Pass --force together with --only <projectId>:<username> or --all.',
      scope: 'run',
    });
    this.name = 'RequestError';
  }
}

/**
 * A user failure that this module decides on (no Atlas or AWS error behind it). It carries the
 * secret state read so far, so the report still shows which certificate the secret holds.
 */
class UserFailure extends RotatorError {
  constructor(
    message: string,
    code: string,
    remedy: string,
    readonly state?: SecretState,
  ) {
    super(message, { code, remedy, scope: 'user' });
    this.name = 'UserFailure';
  }
}

/** Everything known about a user before acting: the basis of every decision. */
interface Assessment {
  state: SecretState | undefined;
  held: CertificateDates | undefined;
  listed: AtlasCertificate[];
  orphans: ListedCertificate[];
  decision: Decision;
}

type Outcome = Omit<UserReport, 'projectId' | 'username' | 'secretName'>;

const toDates = (state: SecretState | undefined): CertificateDates | undefined =>
  state?.current?.kind === 'ours' ? state.current.value : undefined;

const heldFields = (state: SecretState | undefined, held: CertificateDates | undefined) => ({
  secretArn: state?.arn,
  serialNumber: held?.serialNumber,
  notAfter: held?.notAfter.toISOString(),
});

/** A map key for a user. */
export const keyOf = (u: UserRef): string => `${u.projectId}\u0000${u.username}`;

const sameUser = (a: UserRef, b: UserRef): boolean =>
  a.projectId === b.projectId && a.username === b.username;

/** Checks the request's own consistency; config-independent. */
export const validateRequest = (request: RotationRequest): void => {
  if (request.force && !request.all && !request.only?.length) {
    throw new RequestError('force needs an explicit list of users (only) or all');
  }
  if (request.all && !request.force) throw new RequestError('all is only meaningful with force');
  if (request.all && request.only?.length)
    throw new RequestError('give either only or all, not both');
};

/** Runs one rotation over the configured users and returns the report. */
export const runRotation = async (
  ctx: RotationContext,
  request: RotationRequest,
): Promise<RunReport> => {
  validateRequest(request);
  const tuning: RotationTuning = { ...DEFAULT_TUNING, ...ctx.tuning };
  const sleep = ctx.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const startedAt = ctx.now();
  const rows = new Map<string, UserReport>();
  let runFailure: RunFailure | undefined;
  const projectFailures = new Map<string, RotatorError>();
  const limit = pLimit(ctx.config.rotation.concurrency);
  const log = ctx.log;

  const record = (user: UserSettings, outcome: Outcome): void => {
    const row: UserReport = {
      projectId: user.projectId,
      username: user.username,
      secretName: user.secretName,
      ...outcome,
    };
    rows.set(keyOf(user), row);
    const level = row.action === 'failed' ? 'error' : 'info';
    log[level]('user done', {
      projectId: row.projectId,
      username: row.username,
      action: row.action,
      reason: row.reason,
      serialNumber: row.serialNumber,
      errorCode: row.errorCode,
      orphans: row.orphans,
    });
  };

  const failureOutcome = (
    err: unknown,
    known: {
      state?: SecretState | undefined;
      held?: CertificateDates | undefined;
      orphans?: string[];
    },
  ): Outcome => {
    const e = asError(err);
    const state = known.state ?? (e instanceof UserFailure ? e.state : undefined);
    const base = heldFields(state, known.held ?? toDates(state));
    if (e instanceof AtlasDeadlineError) {
      return { ...base, action: 'deferred', reason: e.message, orphans: known.orphans ?? [] };
    }
    if (e instanceof RotatorError) {
      return {
        ...base,
        action: 'failed',
        reason: e.message,
        errorCode: e.code,
        remedy: e.remedy,
        orphans: known.orphans ?? [],
      };
    }
    return {
      ...base,
      action: 'failed',
      reason: `unexpected error: ${e.name}: ${e.message}`,
      errorCode: 'INTERNAL_ERROR',
      remedy: 'Retry the run; if it repeats, open an issue with this report.',
      orphans: known.orphans ?? [],
    };
  };

  /** Routes an error to its scope: the run, the project, or only this user. */
  const escalate = (projectId: string, err: unknown): boolean => {
    if (!(err instanceof RotatorError)) return false;
    if (err.scope === 'run') {
      runFailure ??= { code: err.code, message: err.message, remedy: err.remedy };
      return true;
    }
    if (err.scope === 'project') {
      if (!projectFailures.has(projectId)) {
        projectFailures.set(projectId, err);
        log.error('project failed', { projectId, errorCode: err.code });
      }
      return true;
    }
    return false;
  };

  /** Failure rows for users that a run- or project-wide failure stopped. */
  const stoppedOutcome = (user: UserSettings): Outcome | undefined => {
    const projectError = projectFailures.get(user.projectId);
    if (projectError) return failureOutcome(projectError, {});
    if (runFailure) {
      return {
        action: 'failed',
        reason: `run stopped: ${runFailure.message}`,
        errorCode: runFailure.code,
        remedy: runFailure.remedy,
        secretArn: undefined,
        serialNumber: undefined,
        notAfter: undefined,
        orphans: [],
      };
    }
    return undefined;
  };

  const forcedFor = (user: UserRef): boolean =>
    request.force && (request.all === true || (request.only ?? []).some((o) => sameUser(o, user)));

  /** Reads the secret and Atlas's list, and decides. Reads only. */
  const assess = async (user: UserSettings): Promise<Assessment> => {
    const forced = forcedFor(user);
    const state = await ctx.store.read(user.secretName, user);
    if (state?.deletedDate) {
      throw new UserFailure(
        `secret ${user.secretName} is scheduled for deletion (${state.deletedDate.toISOString()})`,
        'SECRET_SCHEDULED_FOR_DELETION',
        `Restore it (aws secretsmanager restore-secret --secret-id ${user.secretName}) or remove the user from the config.`,
        state,
      );
    }
    if (state?.current?.kind === 'foreign' && !forced) {
      throw new UserFailure(
        `secret ${user.secretName} is not ours: ${state.current.problem}`,
        'SECRET_FOREIGN_VALUE',
        `Point the user at another secretName, or replace the value deliberately with --force --only ${user.projectId}:${user.username}.`,
        state,
      );
    }
    const held = toDates(state);
    const listed = await ctx.atlas.listCertificates(user.projectId, user.username);
    const now = ctx.now();
    if (!forced && heldButUnlisted({ held, listed, now, graceMs: tuning.listLagGraceMs })) {
      throw new UserFailure(
        `Atlas does not list the stored certificate ${held?.serialNumber} although it has not expired`,
        'HELD_CERTIFICATE_UNKNOWN_TO_ATLAS',
        `Check that ${user.secretName} belongs to ${user.projectId}:${user.username} (was the user re-created?); replace it deliberately with --force --only ${user.projectId}:${user.username}.`,
        state,
      );
    }
    const orphans = findOrphans({
      listed,
      isHeld: (serial) => state?.versions.has(versionIdFor(serial)) ?? false,
      held,
      managedSince: state?.createdDate ?? now,
      now,
    });
    const decision = state?.pendingVersionId
      ? { due: true as const, reason: 'an interrupted rotation left a pending version' }
      : decide({
          held,
          policy: user,
          key: `${user.projectId}/${user.username}`,
          now,
          force: forced,
        });
    return { state, held, listed, orphans, decision };
  };

  const orphanSerials = (a: Pick<Assessment, 'orphans'>): string[] =>
    a.orphans.map((o) => o.serialNumber);

  /** Waits until Atlas lists `serial`, for a few short tries (its list may lag a create). */
  const confirmListed = async (user: UserSettings, serial: string): Promise<boolean> => {
    for (let attempt = 1; attempt <= tuning.confirmAttempts; attempt++) {
      const listed = await ctx.atlas.listCertificates(user.projectId, user.username);
      if (listed.some((c) => c.serialNumber === serial)) return true;
      if (attempt < tuning.confirmAttempts) await sleep(tuning.confirmDelayMs);
    }
    return false;
  };

  /**
   * Finishes a rotation a previous run stored as AWSPENDING but did not promote. Returns
   * undefined when the pending version is unusable: its label is dropped and the caller
   * decides afresh from the current certificate.
   */
  const resume = async (user: UserSettings, a: Assessment): Promise<Outcome | undefined> => {
    const state = a.state as SecretState;
    const pendingId = state.pendingVersionId as string;
    const abandon = async (problem: string): Promise<undefined> => {
      log.warn('abandoning an unusable pending version', {
        projectId: user.projectId,
        username: user.username,
        versionId: pendingId,
        problem,
      });
      await ctx.store.abandonPending(state, pendingId);
      return undefined;
    };
    const pending = parseCurrentValue(await ctx.store.readPending(state), user);
    if (pending.kind === 'foreign') return abandon(pending.problem);
    let cert: ValidatedCertificate;
    try {
      cert = validateBundle(pending.value.pem, {
        username: user.username,
        policy: user,
        now: ctx.now(),
      });
    } catch (err) {
      return abandon(asError(err).message);
    }
    if (versionIdFor(cert.serialNumber) !== pendingId) {
      return abandon('its version id does not match its serial');
    }
    if (!a.listed.some((c) => c.serialNumber === cert.serialNumber)) {
      const age = ctx.now().getTime() - cert.notBefore.getTime() - ATLAS_BACKDATE_MS;
      if (age > tuning.listLagGraceMs) return abandon('Atlas does not list its serial');
      return {
        ...heldFields(state, a.held),
        action: 'failed',
        reason: `pending certificate ${cert.serialNumber} is not listed by Atlas yet; left pending`,
        errorCode: 'PENDING_NOT_LISTED',
        remedy: 'The next run promotes it once Atlas lists it; nothing to do unless this repeats.',
        orphans: orphanSerials(a),
      };
    }
    await ctx.store.promote(state, pendingId);
    return {
      ...heldFields(state, cert),
      action: 'resumed',
      reason: `finished the interrupted rotation: certificate ${cert.serialNumber} is now current`,
      orphans: orphanSerials(a),
    };
  };

  /** Certificates Atlas lists now that are not in `known`: minted since, keys not with us. */
  const appearedSince = async (user: UserSettings, known: ReadonlySet<string>) => {
    const listed = await ctx.atlas.listCertificates(user.projectId, user.username);
    return listed.filter((c) => !known.has(c.serialNumber));
  };

  /**
   * Mints through Atlas. The create is not idempotent: after a failure that may have minted,
   * list again, count what appeared as orphans, and try again only within the orphan limit.
   */
  const mint = async (user: UserSettings, a: Assessment, orphans: string[]): Promise<string> => {
    const { orphanLimit, orphanWindowDays } = ctx.config.rotation;
    const known = new Set(a.listed.map((c) => c.serialNumber));
    const recent = recentOrphans(a.orphans, ctx.now(), orphanWindowDays);
    for (let attempt = 1; ; attempt++) {
      if (recent.length >= orphanLimit) {
        throw new UserFailure(
          `refusing to mint: ${recent.length} certificate(s) minted in the last ${orphanWindowDays} days were lost (orphans)`,
          'ORPHAN_LIMIT',
          'Atlas caps certificates per user and they cannot be deleted. Find why keys were lost (see earlier failures), fix it, and the limit clears as the orphans age out of the window.',
        );
      }
      try {
        return await ctx.atlas.createCertificate(
          user.projectId,
          user.username,
          user.monthsUntilExpiration,
        );
      } catch (err) {
        if (!(err instanceof AtlasCreateOutcomeUnknownError)) throw err;
        const appeared = await appearedSince(user, known);
        for (const cert of appeared) known.add(cert.serialNumber);
        orphans.push(...appeared.map((c) => c.serialNumber));
        recent.push(...appeared);
        log.warn('create outcome unknown; listed again', {
          projectId: user.projectId,
          username: user.username,
          attempt,
          newOrphans: appeared.map((c) => c.serialNumber),
        });
        if (attempt >= 2) throw err;
      }
    }
  };

  /**
   * Leased work on one due user: resume or mint, validate, store, promote. `orphans` collects
   * the serials whose keys are lost, so the caller reports them even when this throws.
   */
  const act = async (user: UserSettings, a: Assessment, orphans: string[]): Promise<Outcome> => {
    orphans.push(...orphanSerials(a));
    if (a.state?.pendingVersionId) {
      const resumed = await resume(user, a);
      if (resumed) return resumed;
      const decision = decide({
        held: a.held,
        policy: user,
        key: `${user.projectId}/${user.username}`,
        now: ctx.now(),
        force: forcedFor(user),
      });
      if (!decision.due) {
        return {
          ...heldFields(a.state, a.held),
          action: 'skipped',
          reason: `dropped an unusable pending version; ${decision.reason}`,
          orphans,
        };
      }
    }
    const state = a.state ?? (await ctx.store.create(user.secretName, user));
    const body = await mint(user, a, orphans);

    let cert: ValidatedCertificate;
    try {
      cert = validateBundle(body, {
        username: user.username,
        policy: user,
        now: ctx.now(),
        requestedMonths: user.monthsUntilExpiration,
      });
    } catch (err) {
      // Atlas minted something we will not use: it stays valid until it expires.
      const minted = await appearedSince(user, new Set(a.listed.map((c) => c.serialNumber))).catch(
        () => [],
      );
      orphans.push(...minted.map((c) => c.serialNumber).filter((s) => !orphans.includes(s)));
      throw err;
    }

    // Store before any other call: the key exists nowhere else.
    const value = serializeStored(user, cert);
    let versionId: string;
    try {
      versionId = await ctx.store.put(state, value, cert.serialNumber);
    } catch (err) {
      orphans.push(cert.serialNumber);
      log.error('a minted certificate could not be stored; its key is lost', {
        projectId: user.projectId,
        username: user.username,
        serialNumber: cert.serialNumber,
      });
      throw err;
    }
    if (!state.currentVersionId) {
      return {
        secretArn: state.arn,
        action: 'rotated',
        reason: `stored the first certificate (${a.decision.reason})`,
        serialNumber: cert.serialNumber,
        notAfter: cert.notAfter.toISOString(),
        orphans,
      };
    }
    if (!(await confirmListed(user, cert.serialNumber))) {
      return {
        ...heldFields(state, a.held),
        action: 'failed',
        reason: `Atlas does not list the new certificate ${cert.serialNumber} yet; stored as AWSPENDING, not made current`,
        errorCode: 'NEW_CERTIFICATE_NOT_LISTED',
        remedy:
          'The next run promotes it once Atlas lists it; if it never does, check the Atlas user.',
        orphans,
      };
    }
    await ctx.store.promote(state, versionId);
    return {
      secretArn: state.arn,
      action: 'rotated',
      reason: `rotated (${a.decision.reason})`,
      serialNumber: cert.serialNumber,
      notAfter: cert.notAfter.toISOString(),
      orphans,
    };
  };

  const timeLeft = (): number => {
    const deadline = ctx.deadline?.();
    return deadline === undefined ? Number.POSITIVE_INFINITY : deadline - ctx.now().getTime();
  };

  // ---- who is covered ------------------------------------------------------------------

  const users = await resolveUsers(ctx, request, (projectId, err) => {
    if (!escalate(projectId, err)) {
      projectFailures.set(projectId, err instanceof RotatorError ? err : wrapUnexpected(err));
    }
  });
  const collisions = secretNameCollisions(users);

  // ---- phase 1: assess every user (reads only) ----------------------------------------

  const assessments = new Map<string, Assessment>();
  await Promise.all(
    users.map((user) =>
      limit(async () => {
        const stopped = stoppedOutcome(user);
        if (stopped) return record(user, stopped);
        const sharing = collisions.get(keyOf(user));
        if (sharing) {
          return record(user, {
            ...heldFields(undefined, undefined),
            action: 'failed',
            reason: `secret name ${user.secretName} is also the name for ${sharing}`,
            errorCode: 'SECRET_NAME_COLLISION',
            remedy: 'Give one of the users an explicit secretName, or exclude one from discovery.',
            orphans: [],
          });
        }
        if (!user.enabled) {
          return record(user, {
            ...heldFields(undefined, undefined),
            action: 'skipped',
            reason: 'disabled in config (enabled: false)',
            orphans: [],
          });
        }
        try {
          const a = await assess(user);
          if (!a.decision.due) {
            return record(user, {
              ...heldFields(a.state, a.held),
              action: 'skipped',
              reason: a.decision.reason,
              orphans: orphanSerials(a),
            });
          }
          if (request.dryRun) {
            return record(user, {
              ...heldFields(a.state, a.held),
              action: 'planned',
              reason: `would ${a.state?.pendingVersionId ? 'finish' : 'mint'}: ${a.decision.reason}`,
              orphans: orphanSerials(a),
            });
          }
          assessments.set(keyOf(user), a);
        } catch (err) {
          record(
            user,
            (escalate(user.projectId, err) && stoppedOutcome(user)) || failureOutcome(err, {}),
          );
        }
      }),
    ),
  );

  // ---- phase 2: act on due users, most urgent first ------------------------------------

  const due = users
    .filter((u) => assessments.has(keyOf(u)))
    .sort((x, y) => byUrgency(assessments.get(keyOf(x))?.held, assessments.get(keyOf(y))?.held));
  if (due.length > 0 && !runFailure) {
    try {
      await ctx.leases.check();
    } catch (err) {
      // A missing or unreachable lease table stops the run: minting without a lease is unsafe.
      if (!(err instanceof RotatorError)) throw err;
      runFailure = { code: err.code, message: err.message, remedy: err.remedy };
    }
  }

  await Promise.all(
    due.map((user) =>
      limit(async () => {
        const first = assessments.get(keyOf(user)) as Assessment;
        const stopped = stoppedOutcome(user);
        if (stopped) return record(user, stopped);
        if (timeLeft() < tuning.minTimeForMintMs) {
          return record(user, {
            ...heldFields(first.state, first.held),
            action: 'deferred',
            reason: `out of time for this run (${first.decision.reason}); the next run continues`,
            orphans: orphanSerials(first),
          });
        }
        const key = leaseKey(user.projectId, user.username);
        let known: Assessment = first;
        const lost: string[] = [];
        try {
          const lease = await ctx.leases.acquire(key);
          if (!lease.acquired) {
            return record(user, {
              ...heldFields(first.state, first.held),
              action: 'skipped',
              reason: `another run holds the lease (${lease.owner}, until ${lease.expiresAt.toISOString()})`,
              orphans: orphanSerials(first),
            });
          }
          try {
            // Inside the lease, read again: another run may have finished this user meanwhile.
            const a = await assess(user);
            known = a;
            if (!a.decision.due) {
              return record(user, {
                ...heldFields(a.state, a.held),
                action: 'skipped',
                reason: `${a.decision.reason} (rotated by another run meanwhile)`,
                orphans: orphanSerials(a),
              });
            }
            record(user, await act(user, a, lost));
          } finally {
            await ctx.leases.release(key).catch((err: unknown) =>
              log.warn('could not release lease; it lapses on its own', {
                key,
                error: asError(err).name,
              }),
            );
          }
        } catch (err) {
          const orphans = [...new Set([...orphanSerials(known), ...lost])];
          const stoppedRow = escalate(user.projectId, err) ? stoppedOutcome(user) : undefined;
          record(
            user,
            stoppedRow
              ? { ...stoppedRow, orphans }
              : failureOutcome(err, { state: known.state, held: known.held, orphans }),
          );
        }
      }),
    ),
  );

  // Rows in config order (discovered users after listed ones), whatever order they finished in.
  const ordered = users.flatMap((u) => rows.get(keyOf(u)) ?? []);
  const standaloneRow = (ref: UserRef, reason: string, code: string, remedy: string): UserReport => ({
    ...ref,
    secretName: '-',
    secretArn: undefined,
    action: 'failed',
    reason,
    errorCode: code,
    remedy,
    serialNumber: undefined,
    notAfter: undefined,
    orphans: [],
  });
  // A failed discovery leaves a project without user rows: one row says so.
  for (const [projectId, err] of projectFailures) {
    if (!ordered.some((r) => r.projectId === projectId)) {
      ordered.push(standaloneRow({ projectId, username: '*' }, err.message, err.code, err.remedy));
    }
  }
  // A user named with `only` that the config does not cover must not pass silently.
  for (const ref of request.only ?? []) {
    if (!users.some((u) => sameUser(u, ref)) && !projectFailures.has(ref.projectId)) {
      ordered.push(
        standaloneRow(
          ref,
          'not a configured user, nor a discovered MANAGED user of a configured project',
          'USER_NOT_CONFIGURED',
          'Add the user to the config (or enable discovery for its project), or check the name.',
        ),
      );
    }
  }
  const report: RunReport = {
    runId: ctx.runId,
    dryRun: request.dryRun,
    startedAt: startedAt.toISOString(),
    finishedAt: ctx.now().toISOString(),
    summary: summarize(ordered),
    users: ordered,
  };
  if (runFailure) report.error = runFailure;
  log.info('run done', { runId: ctx.runId, dryRun: request.dryRun, summary: report.summary });
  return report;
};

const wrapUnexpected = (err: unknown): RotatorError => {
  const e = asError(err);
  return new RotatorError(`unexpected error: ${e.name}: ${e.message}`, {
    code: 'INTERNAL_ERROR',
    remedy: 'Retry the run; if it repeats, open an issue with this report.',
    scope: 'project',
  });
};

/**
 * The users a run covers, in config order: listed users, plus discovered MANAGED users of
 * projects with `discover`, minus `exclude`; restricted to `only` when given.
 */
export const resolveUsers = async (
  ctx: Pick<RotationContext, 'config' | 'atlas' | 'log'>,
  request: Pick<RotationRequest, 'only'>,
  onProjectError: (projectId: string, err: unknown) => void,
): Promise<UserSettings[]> => {
  const only = request.only;
  const wanted = (project: ProjectSettings, username?: string): boolean =>
    !only ||
    only.some(
      (o) =>
        o.projectId === project.projectId && (username === undefined || o.username === username),
    );

  const perProject = await Promise.all(
    ctx.config.projects
      .filter((p) => wanted(p))
      .map(async (project) => {
        const users = project.users.filter((u) => wanted(project, u.username));
        if (!project.discover) return users;
        const named = new Set(project.users.map((u) => u.username));
        const onlyNamed = only?.filter(
          (o) => o.projectId === project.projectId && !named.has(o.username),
        );
        if (only && onlyNamed?.length === 0) return users;
        try {
          const found = await ctx.atlas.listDatabaseUsers(project.projectId);
          const discovered = found
            .filter(
              (u) =>
                u.x509Type === 'MANAGED' &&
                u.databaseName === '$external' &&
                !named.has(u.username) &&
                !project.exclude.has(u.username) &&
                wanted(project, u.username),
            )
            .map((u) => discoveredUserSettings(ctx.config, project.projectId, u.username));
          ctx.log.debug('discovered users', {
            projectId: project.projectId,
            count: discovered.length,
          });
          return [...users, ...discovered];
        } catch (err) {
          onProjectError(project.projectId, err);
          return users;
        }
      }),
  );

  return perProject.flat();
};

/**
 * Users whose secret name another user also maps to (possible only through discovery: the
 * config schema rejects it among listed users). Both would overwrite each other: fail both.
 */
export const secretNameCollisions = (users: readonly UserSettings[]): Map<string, string> => {
  const byName = new Map<string, UserSettings[]>();
  for (const user of users)
    byName.set(user.secretName, [...(byName.get(user.secretName) ?? []), user]);
  const collisions = new Map<string, string>();
  for (const sharing of byName.values()) {
    if (sharing.length < 2) continue;
    for (const user of sharing) {
      const others = sharing.filter((u) => u !== user).map((u) => `${u.projectId}:${u.username}`);
      collisions.set(keyOf(user), others.join(', '));
    }
  }
  return collisions;
};
