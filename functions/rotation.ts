import pLimit, { type LimitFunction } from 'p-limit';
import type { AtlasCertificate, AtlasClient } from './atlas/client.js';
import { AtlasCreateOutcomeUnknownError, AtlasDeadlineError } from './atlas/errors.js';
import { type ValidatedCertificate, validateBundle } from './certificate.js';
import type { RotatorConfig, UserSettings } from './config.js';
import { asError, RotatorError } from './errors.js';
import { type LeaseTable, leaseKey } from './lease.js';
import type { Log } from './log.js';
import {
  ATLAS_BACKDATE_MS,
  type CertificateDates,
  type Decision,
  decide,
  findOrphans,
  heldButUnlisted,
  isCritical,
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
import { keyOf, resolveUsers, sameUser, secretNameCollisions } from './users.js';

/**
 * Orchestration of one rotation run: what the Lambda handler and the CLI both call. It knows
 * nothing of Lambda or terminals; its collaborators come in as arguments.
 *
 * A run has two phases. First every user is assessed (reads only: the secret, Atlas's list,
 * the plan). Then the due users, most urgent first, are handled under a lease: assessed again,
 * resumed or minted, validated, stored, promoted.
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
  /** Bounds the users in flight. @default p-limit at `rotation.concurrency` */
  limit?: LimitFunction | undefined;
  /** True while Atlas asked for a long pause: new users are deferred, not started. */
  paused?: (() => boolean) | undefined;
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

/** Checks the request's own consistency; config-independent. */
export const validateRequest = (request: RotationRequest): void => {
  if (request.force && !request.all && !request.only?.length) {
    throw new RequestError('force needs an explicit list of users (only) or all');
  }
  if (request.all && !request.force) throw new RequestError('all is only meaningful with force');
  if (request.all && request.only?.length) {
    throw new RequestError('give either only or all, not both');
  }
};

/** Runs one rotation over the configured users and returns the report. */
export const runRotation = (ctx: RotationContext, request: RotationRequest): Promise<RunReport> => {
  validateRequest(request);
  return new RotationRun(ctx, request).run();
};

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

const serialsOf = (certs: readonly ListedCertificate[]): string[] =>
  certs.map((c) => c.serialNumber);

/** A report outcome that keeps what the assessment knew: the held certificate, the orphans. */
const outcome = (
  a: Pick<Assessment, 'state' | 'held' | 'orphans'> | undefined,
  action: Outcome['action'],
  reason: string,
): Outcome => ({
  ...heldFields(a?.state, a?.held),
  action,
  reason,
  orphans: a ? serialsOf(a.orphans) : [],
});

/**
 * Order before anything is read: no certificate first (no secret, or one left empty by a
 * failed first mint), then the soonest tagged expiry, then secrets without a tag (written by
 * something else), and last when no index could be read.
 */
export const urgencyHint = (indexed: SecretState | null | undefined): number => {
  if (indexed === undefined) return Number.MAX_VALUE;
  if (indexed === null || indexed.currentVersionId === undefined) return Number.NEGATIVE_INFINITY;
  return indexed.notAfterHint?.getTime() ?? Number.MAX_SAFE_INTEGER;
};

const unexpected = (err: unknown, scope: 'project' | 'user'): RotatorError => {
  const e = asError(err);
  return new RotatorError(`unexpected error: ${e.name}: ${e.message}`, {
    code: 'INTERNAL_ERROR',
    remedy: 'Retry the run; if it repeats, open an issue with this report.',
    scope,
  });
};

class RotationRun {
  private readonly tuning: RotationTuning;
  private readonly limit: LimitFunction;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly rows = new Map<string, UserReport>();
  private readonly projectFailures = new Map<string, RotatorError>();
  private runFailure: RunFailure | undefined;
  private leaseTableChecked: Promise<void> | undefined;

  constructor(
    private readonly ctx: RotationContext,
    private readonly request: RotationRequest,
  ) {
    this.tuning = { ...DEFAULT_TUNING, ...ctx.tuning };
    this.limit = ctx.limit ?? pLimit(ctx.config.rotation.concurrency);
    this.sleep = ctx.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
  }

  async run(): Promise<RunReport> {
    const { ctx } = this;
    const startedAt = ctx.now();
    const users = await resolveUsers(ctx, this.request.only, (projectId, err) => {
      if (!this.escalate(projectId, err)) {
        this.projectFailures.set(
          projectId,
          err instanceof RotatorError ? err : unexpected(err, 'project'),
        );
      }
    });

    // One pass, most urgent first as far as the cheap index tells (no secret, then the
    // soonest tagged expiry): when time runs short, what is left is what can best wait.
    const collisions = secretNameCollisions(users);
    const index = users.length > 0 ? await this.secretIndex() : undefined;
    const indexed = (u: UserSettings) => (index ? (index.get(u.secretName) ?? null) : undefined);
    const ordered = [...users].sort((x, y) => urgencyHint(indexed(x)) - urgencyHint(indexed(y)));
    await Promise.all(
      ordered.map((user) =>
        this.limit(() => this.handleUser(user, collisions.get(keyOf(user)), indexed(user))),
      ),
    );

    const rows = this.orderedRows(users);
    const report: RunReport = {
      runId: ctx.runId,
      dryRun: this.request.dryRun,
      startedAt: startedAt.toISOString(),
      finishedAt: ctx.now().toISOString(),
      summary: summarize(rows),
      users: rows,
    };
    if (this.runFailure) report.error = this.runFailure;
    ctx.log.info('run done', {
      runId: ctx.runId,
      dryRun: this.request.dryRun,
      summary: report.summary,
    });
    return report;
  }

  // ---- phase 1 ----------------------------------------------------------------------------

  /**
   * Metadata of every secret under the prefix in a few calls, or undefined (secrets are then
   * read one by one) when listing is not allowed.
   */
  private async secretIndex(): Promise<Map<string, SecretState> | undefined> {
    try {
      return await this.ctx.store.index(this.ctx.config.defaults.secretNamePrefix);
    } catch (err) {
      this.ctx.log.warn('cannot list secrets; reading them one by one', {
        errorCode: err instanceof RotatorError ? err.code : asError(err).name,
      });
      return undefined;
    }
  }

  /** Assesses one user and, when due, handles it: its row is recorded whatever happens. */
  private async handleUser(
    user: UserSettings,
    sharesSecretWith: string | undefined,
    indexed: SecretState | null | undefined,
  ): Promise<void> {
    const stopped = this.stoppedOutcome(user);
    if (stopped) return this.record(user, stopped);
    if (sharesSecretWith) {
      return this.record(user, {
        ...outcome(
          undefined,
          'failed',
          `secret name ${user.secretName} is also the name for ${sharesSecretWith}`,
        ),
        errorCode: 'SECRET_NAME_COLLISION',
        remedy: 'Give one of the users an explicit secretName, or exclude one from discovery.',
      });
    }
    if (!user.enabled)
      return this.record(
        user,
        outcome(undefined, 'skipped', 'disabled in config (enabled: false)'),
      );
    const outOfTime = this.timeLeft() < this.tuning.minTimeForMintMs;
    if (!this.request.dryRun && (outOfTime || this.ctx.paused?.())) {
      return this.record(user, {
        secretArn: indexed?.arn,
        action: 'deferred',
        reason: outOfTime
          ? 'out of time for this run; the next run continues'
          : 'Atlas is rate-limiting this run; the budget goes to users in flight, the next run continues',
        serialNumber: undefined,
        notAfter: indexed?.notAfterHint?.toISOString(),
        orphans: [],
      });
    }
    let a: Assessment;
    try {
      a = await this.assess(user, indexed);
    } catch (err) {
      const stoppedNow = this.escalate(user.projectId, err) ? this.stoppedOutcome(user) : undefined;
      return this.record(user, stoppedNow ?? this.failureOutcome(err, {}));
    }
    if (!a.decision.due) return this.record(user, outcome(a, 'skipped', a.decision.reason));
    if (this.request.dryRun) {
      const verb = a.state?.pendingVersionId ? 'finish' : 'mint';
      return this.record(user, outcome(a, 'planned', `would ${verb}: ${a.decision.reason}`));
    }
    return this.handleDue(user, a);
  }

  /**
   * Reads Atlas's list and the secret, and decides. Reads only. With `indexed` (the secret's
   * metadata from the index; null: not in it) a steady-state user costs no secret read.
   */
  private async assess(
    user: UserSettings,
    indexed?: SecretState | null,
    listedJustNow?: AtlasCertificate[],
  ): Promise<Assessment> {
    const { ctx } = this;
    const forced = this.forcedFor(user);
    const listed =
      listedJustNow ?? (await ctx.atlas.listCertificates(user.projectId, user.username));
    const { state, held } = await this.readState(user, listed, indexed);
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
    const now = ctx.now();
    if (!forced && heldButUnlisted({ held, listed, now, graceMs: this.tuning.listLagGraceMs })) {
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
    const decision: Decision = state?.pendingVersionId
      ? { due: true, reason: 'an interrupted rotation left a pending version' }
      : this.decideFor(user, held, forced);
    return { state, held, listed, orphans, decision };
  }

  /**
   * The secret's state and the certificate it holds. The index names the current version,
   * whose id derives from the serial, and Atlas's list dates that serial: no value needs
   * reading. Anything else (pending, unlisted, foreign, no index) reads the value.
   */
  private async readState(
    user: UserSettings,
    listed: readonly AtlasCertificate[],
    indexed: SecretState | null | undefined,
  ): Promise<{ state: SecretState | undefined; held: CertificateDates | undefined }> {
    if (indexed === null) return { state: undefined, held: undefined };
    if (indexed && (indexed.deletedDate || !indexed.currentVersionId)) {
      return { state: indexed, held: undefined };
    }
    if (indexed && !indexed.pendingVersionId) {
      const match = listed.find((c) => versionIdFor(c.serialNumber) === indexed.currentVersionId);
      if (match) {
        const { serialNumber, createdAt: notBefore, notAfter } = match;
        return { state: indexed, held: { serialNumber, notBefore, notAfter } };
      }
    }
    const state = await this.ctx.store.read(user.secretName, user);
    return { state, held: toDates(state) };
  }

  private decideFor(
    user: UserSettings,
    held: CertificateDates | undefined,
    forced: boolean,
  ): Decision {
    const key = `${user.projectId}/${user.username}`;
    return decide({ held, policy: user, key, now: this.ctx.now(), force: forced });
  }

  // ---- phase 2 ----------------------------------------------------------------------------

  /**
   * A missing or unreachable lease table stops the run: minting without a lease is unsafe.
   * Checked once, when the first user turns out due.
   */
  private checkLeaseTable(): Promise<void> {
    this.leaseTableChecked ??= this.ctx.leases.check().catch((err: unknown) => {
      if (!(err instanceof RotatorError)) throw err;
      this.runFailure ??= { code: err.code, message: err.message, remedy: err.remedy };
    });
    return this.leaseTableChecked;
  }

  /** Leased work on one due user. Records its row whatever happens. */
  private async handleDue(user: UserSettings, first: Assessment): Promise<void> {
    const { ctx } = this;
    await this.checkLeaseTable();
    const stopped = this.stoppedOutcome(user);
    if (stopped) return this.record(user, stopped);
    if (this.timeLeft() < this.tuning.minTimeForMintMs) {
      return this.record(
        user,
        outcome(
          first,
          'deferred',
          `out of time for this run (${first.decision.reason}); the next run continues`,
        ),
      );
    }
    const key = leaseKey(user.projectId, user.username);
    let known = first;
    const lost: string[] = [];
    try {
      const lease = await ctx.leases.acquire(key);
      if (!lease.acquired) {
        const until = lease.expiresAt.toISOString();
        return this.record(
          user,
          outcome(first, 'skipped', `another run holds the lease (${lease.owner}, until ${until})`),
        );
      }
      try {
        // Inside the lease, read the secret again: another run may have finished this user
        // meanwhile. Atlas's list from a moment ago stands (a certificate minted since then by
        // a crashed run shows up as an orphan next time). A user without a secret needs no
        // second read: creating the secret tells whether another run made it meanwhile.
        known = first.state ? await this.assess(user, undefined, first.listed) : first;
        if (!known.decision.due) {
          return this.record(
            user,
            outcome(
              known,
              'skipped',
              `${known.decision.reason} (rotated by another run meanwhile)`,
            ),
          );
        }
        this.record(user, await this.act(user, known, lost));
      } finally {
        await ctx.leases.release(key).catch((err: unknown) =>
          ctx.log.warn('could not release lease; it lapses on its own', {
            key,
            error: asError(err).name,
          }),
        );
      }
    } catch (err) {
      const orphans = [...new Set([...serialsOf(known.orphans), ...lost])];
      const stoppedNow = this.escalate(user.projectId, err) ? this.stoppedOutcome(user) : undefined;
      this.record(
        user,
        stoppedNow
          ? { ...stoppedNow, orphans }
          : this.failureOutcome(err, { state: known.state, held: known.held, orphans }),
      );
    }
  }

  /**
   * Resume or mint, validate, store, promote. `orphans` collects the serials whose keys are
   * lost, so the caller reports them even when this throws.
   */
  private async act(user: UserSettings, a: Assessment, orphans: string[]): Promise<Outcome> {
    const { ctx } = this;
    orphans.push(...serialsOf(a.orphans));
    if (a.state?.pendingVersionId) {
      const resumed = await this.resume(user, a);
      if (resumed) return resumed;
      const decision = this.decideFor(user, a.held, this.forcedFor(user));
      if (!decision.due) {
        return {
          ...outcome(a, 'skipped', `dropped an unusable pending version; ${decision.reason}`),
          orphans,
        };
      }
    }
    const state = a.state ?? (await ctx.store.create(user.secretName, user));
    if (!a.state && (state.currentVersionId || state.pendingVersionId)) {
      return {
        ...heldFields(state, toDates(state)),
        action: 'skipped',
        reason:
          'the secret turned out to hold a certificate (another run stored one meanwhile, or the listing lagged); the next run decides from it',
        orphans,
      };
    }
    const body = await this.mint(user, a, orphans);

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
      const minted = await this.appearedSince(user, new Set(serialsOf(a.listed))).catch(() => []);
      orphans.push(...serialsOf(minted).filter((s) => !orphans.includes(s)));
      throw err;
    }

    // Store before any other call: the key exists nowhere else.
    let versionId: string;
    try {
      versionId = await ctx.store.put(state, serializeStored(user, cert), cert.serialNumber);
    } catch (err) {
      orphans.push(cert.serialNumber);
      ctx.log.error('a minted certificate could not be stored; its key is lost', {
        projectId: user.projectId,
        username: user.username,
        serialNumber: cert.serialNumber,
      });
      throw err;
    }
    const stored = {
      secretArn: state.arn,
      serialNumber: cert.serialNumber,
      notAfter: cert.notAfter.toISOString(),
      orphans,
    };
    if (!state.currentVersionId) {
      await ctx.store.tagNotAfter(state, cert.notAfter);
      return {
        ...stored,
        action: 'rotated',
        reason: `stored the first certificate (${a.decision.reason})`,
      };
    }
    if (!(await this.confirmListed(user, cert.serialNumber))) {
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
    await ctx.store.tagNotAfter(state, cert.notAfter);
    return { ...stored, action: 'rotated', reason: `rotated (${a.decision.reason})` };
  }

  /**
   * Finishes a rotation a previous run stored as AWSPENDING but did not promote. Returns
   * undefined when the pending version is unusable: its label is dropped and the caller
   * decides afresh from the current certificate.
   */
  private async resume(user: UserSettings, a: Assessment): Promise<Outcome | undefined> {
    const { ctx } = this;
    const state = a.state as SecretState;
    const pendingId = state.pendingVersionId as string;
    const abandon = async (problem: string): Promise<undefined> => {
      ctx.log.warn('abandoning an unusable pending version', {
        projectId: user.projectId,
        username: user.username,
        versionId: pendingId,
        problem,
      });
      await ctx.store.dropPending(state, pendingId);
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
      if (age > this.tuning.listLagGraceMs) return abandon('Atlas does not list its serial');
      return {
        ...outcome(
          a,
          'failed',
          `pending certificate ${cert.serialNumber} is not listed by Atlas yet; left pending`,
        ),
        errorCode: 'PENDING_NOT_LISTED',
        remedy: 'The next run promotes it once Atlas lists it; nothing to do unless this repeats.',
      };
    }
    await ctx.store.promote(state, pendingId);
    await ctx.store.tagNotAfter(state, cert.notAfter);
    return {
      ...outcome(
        { ...a, held: cert },
        'resumed',
        `finished the interrupted rotation: certificate ${cert.serialNumber} is now current`,
      ),
    };
  }

  /**
   * Mints through Atlas. The create is not idempotent: after a failure that may have minted,
   * list again, count what appeared as orphans, and try again only within the orphan limit.
   */
  private async mint(user: UserSettings, a: Assessment, orphans: string[]): Promise<string> {
    const { ctx } = this;
    const { orphanLimit, orphanWindowDays, criticalDays } = ctx.config.rotation;
    const known = new Set(serialsOf(a.listed));
    const recent = recentOrphans(a.orphans, ctx.now(), orphanWindowDays);
    const critical = isCritical(a.held, ctx.now(), criticalDays);
    for (let attempt = 1; ; attempt++) {
      if (recent.length >= orphanLimit && critical && attempt === 1) {
        ctx.log.warn('minting past the orphan limit: the certificate is about to expire', {
          projectId: user.projectId,
          username: user.username,
          orphans: serialsOf(recent),
        });
      } else if (recent.length >= orphanLimit) {
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
        const appeared = await this.appearedSince(user, known);
        for (const serial of serialsOf(appeared)) known.add(serial);
        orphans.push(...serialsOf(appeared));
        recent.push(...appeared);
        ctx.log.warn('create outcome unknown; listed again', {
          projectId: user.projectId,
          username: user.username,
          attempt,
          newOrphans: serialsOf(appeared),
        });
        if (attempt >= 2) throw err;
      }
    }
  }

  /** Certificates Atlas lists now that are not in `known`: minted since, keys not with us. */
  private async appearedSince(
    user: UserSettings,
    known: ReadonlySet<string>,
  ): Promise<AtlasCertificate[]> {
    const listed = await this.ctx.atlas.listCertificates(user.projectId, user.username);
    return listed.filter((c) => !known.has(c.serialNumber));
  }

  /** Waits until Atlas lists `serial`, for a few short tries (its list may lag a create). */
  private async confirmListed(user: UserSettings, serial: string): Promise<boolean> {
    const { confirmAttempts, confirmDelayMs } = this.tuning;
    for (let attempt = 1; attempt <= confirmAttempts; attempt++) {
      const listed = await this.ctx.atlas.listCertificates(user.projectId, user.username);
      if (listed.some((c) => c.serialNumber === serial)) return true;
      if (attempt < confirmAttempts) await this.sleep(confirmDelayMs);
    }
    return false;
  }

  // ---- bookkeeping ------------------------------------------------------------------------

  private timeLeft(): number {
    const deadline = this.ctx.deadline?.();
    return deadline === undefined ? Number.POSITIVE_INFINITY : deadline - this.ctx.now().getTime();
  }

  private forcedFor(user: UserRef): boolean {
    const { force, all, only } = this.request;
    return force && (all === true || (only ?? []).some((o) => sameUser(o, user)));
  }

  /** Stores the user's row and logs it. Returns undefined so callers can `return record(…)`. */
  private record(user: UserSettings, result: Outcome): undefined {
    const row: UserReport = {
      projectId: user.projectId,
      username: user.username,
      secretName: user.secretName,
      ...result,
    };
    this.rows.set(keyOf(user), row);
    this.ctx.log[row.action === 'failed' ? 'error' : 'info']('user done', {
      projectId: row.projectId,
      username: row.username,
      action: row.action,
      reason: row.reason,
      serialNumber: row.serialNumber,
      errorCode: row.errorCode,
      orphans: row.orphans,
    });
    return undefined;
  }

  private failureOutcome(
    err: unknown,
    known: {
      state?: SecretState | undefined;
      held?: CertificateDates | undefined;
      orphans?: string[];
    },
  ): Outcome {
    const state = known.state ?? (err instanceof UserFailure ? err.state : undefined);
    const base = {
      ...heldFields(state, known.held ?? toDates(state)),
      orphans: known.orphans ?? [],
    };
    if (err instanceof AtlasDeadlineError)
      return { ...base, action: 'deferred', reason: err.message };
    const e = err instanceof RotatorError ? err : unexpected(err, 'user');
    return { ...base, action: 'failed', reason: e.message, errorCode: e.code, remedy: e.remedy };
  }

  /** Routes an error to its scope: true when it stops the run or the project. */
  private escalate(projectId: string, err: unknown): boolean {
    if (!(err instanceof RotatorError) || err.scope === 'user') return false;
    if (err.scope === 'run') {
      this.runFailure ??= { code: err.code, message: err.message, remedy: err.remedy };
    } else if (!this.projectFailures.has(projectId)) {
      this.projectFailures.set(projectId, err);
      this.ctx.log.error('project failed', { projectId, errorCode: err.code });
    }
    return true;
  }

  /** The row of a user that a run- or project-wide failure stopped. */
  private stoppedOutcome(user: UserSettings): Outcome | undefined {
    const projectError = this.projectFailures.get(user.projectId);
    if (projectError) return this.failureOutcome(projectError, {});
    const run = this.runFailure;
    if (!run) return undefined;
    return {
      ...outcome(undefined, 'failed', `run stopped: ${run.message}`),
      errorCode: run.code,
      remedy: run.remedy,
    };
  }

  /**
   * Rows in config order (discovered users after listed ones), whatever order they finished
   * in, plus rows for what has no user row: a failed discovery, an `only` the config lacks.
   */
  private orderedRows(users: readonly UserSettings[]): UserReport[] {
    const ordered = users.flatMap((u) => this.rows.get(keyOf(u)) ?? []);
    const standalone = (
      ref: UserRef,
      reason: string,
      code: string,
      remedy: string,
    ): UserReport => ({
      ...ref,
      secretName: '-',
      ...outcome(undefined, 'failed', reason),
      errorCode: code,
      remedy,
    });
    for (const [projectId, err] of this.projectFailures) {
      if (!ordered.some((r) => r.projectId === projectId)) {
        ordered.push(standalone({ projectId, username: '*' }, err.message, err.code, err.remedy));
      }
    }
    for (const ref of this.request.only ?? []) {
      if (!users.some((u) => sameUser(u, ref)) && !this.projectFailures.has(ref.projectId)) {
        ordered.push(
          standalone(
            ref,
            'not a configured user, nor a discovered MANAGED user of a configured project',
            'USER_NOT_CONFIGURED',
            'Add the user to the config (or enable discovery for its project), or check the name.',
          ),
        );
      }
    }
    return ordered;
  }
}
