import type { UserSettings } from '../config/types.js';
import { asError, RotatorError } from '../errors.js';
import { type RunReport, summarize } from '../report.js';
import type { SecretState } from '../stored-value.js';
import { resolveUsers, secretNameCollisions, storedUsernames } from '../users.js';
import { sharedUserLists } from './atlas-facts.js';
import { renew } from './renewal.js';
import { keyOf, type RotationRequest, requestIdentity, validateRequest } from './request.js';
import { type RotationContext, type Run, startRun } from './run-state.js';
import { NO_IDENTITY_NOTE } from './served.js';
import { rememberOrphans } from './upkeep/orphans.js';
import { planReplicaChecks } from './upkeep/replication.js';

/**
 * One rotation run: what the Lambda handler and the CLI both call. It knows nothing of Lambda or
 * terminals; its collaborators come in as ports (`ports.ts`).
 *
 * It orders the users, most urgent first, runs each one's renewal (`renewal.ts`: the phases in
 * order) and records its row, then reports. The ledger keeps the rows.
 */

/** Runs one rotation over the configured users and returns the report. */
export const runRotation = async (
  ctx: RotationContext,
  request: RotationRequest,
): Promise<RunReport> => {
  validateRequest(request);
  const run = startRun(ctx, request);
  const startedAt = ctx.clock.now();
  // Discovery's user lists are the run's: the checks before a mint read them again for free.
  const atlas = sharedUserLists(run);
  // Read once: what a failed discovery found before (its users keep their rows), and the order.
  let indexRead: Promise<Map<string, SecretState> | undefined> | undefined;
  const readIndex = () => {
    indexRead ??= secretIndex(run);
    return indexRead;
  };
  const prefix = ctx.config.defaults.secretNamePrefix;
  const users = await resolveUsers(
    { ...ctx, atlas },
    request.only,
    (projectId, err) => run.ledger.discoveryFailed(projectId, err),
    async (projectId) => storedUsernames(prefix, projectId, (await readIndex())?.values() ?? []),
  );
  planReplicaChecks(run, users);

  // One pass, most urgent first as far as the cheap index tells (no secret, then the
  // soonest tagged expiry): when time runs short, what is left is what can best wait.
  const collisions = secretNameCollisions(users);
  const index = users.length > 0 ? await readIndex() : undefined;
  const indexed = (u: UserSettings) => (index ? (index.get(u.secretName) ?? null) : undefined);
  const ordered = byUrgency(users, indexed);
  let done = 0;
  await Promise.all(
    ordered.map((user) =>
      run.pace
        .run(user.projectId, () =>
          renew(run, user, collisions.get(keyOf(user)), indexed(user))
            .then((result) => run.ledger.record(user, result))
            .then(() => rememberOrphans(run, user)),
        )
        .finally(() => ctx.progress?.(++done, ordered.length)),
    ),
  );

  const rows = run.ledger.rowsFor(users, request.only);
  const report: RunReport = {
    runId: ctx.runId,
    dryRun: request.dryRun,
    startedAt: startedAt.toISOString(),
    finishedAt: ctx.clock.now().toISOString(),
    summary: summarize(rows),
    users: rows,
  };
  const failure = run.ledger.runFailure;
  if (failure) report.error = failure;
  const requestId = requestIdentity(request);
  if (requestId) report.requestId = requestId;
  else if (request.force) report.requestNote = NO_IDENTITY_NOTE;
  ctx.log.info('run done', { runId: ctx.runId, dryRun: request.dryRun, summary: report.summary });
  return report;
};

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

/**
 * Most urgent first; among equally urgent users (a first deployment: none has a secret), the
 * projects take turns, so every project's rate-limit bucket is drawn on from the start.
 */
const byUrgency = (
  users: UserSettings[],
  indexed: (u: UserSettings) => SecretState | null | undefined,
): UserSettings[] => {
  const urgency = new Map(users.map((u) => [u, urgencyHint(indexed(u))]));
  const compare = (a: number, b: number) => (a < b ? -1 : a > b ? 1 : 0);
  const byHint = (x: UserSettings, y: UserSettings) =>
    compare(urgency.get(x) ?? 0, urgency.get(y) ?? 0);
  // Each user's turn: how many equally urgent users of its project come before it.
  const turn = new Map<UserSettings, number>();
  const seen = new Map<string, number>();
  for (const u of [...users].sort(byHint)) {
    const key = `${urgency.get(u)}\u0000${u.projectId}`;
    turn.set(u, seen.get(key) ?? 0);
    seen.set(key, (turn.get(u) ?? 0) + 1);
  }
  return [...users].sort((x, y) => byHint(x, y) || compare(turn.get(x) ?? 0, turn.get(y) ?? 0));
};

/**
 * Metadata of every secret under the prefix in a few calls, or undefined: secrets are then read
 * one by one, or, when the failure is the run's, the run stops.
 */
const secretIndex = async (run: Run): Promise<Map<string, SecretState> | undefined> => {
  try {
    return await run.ctx.store.index(run.ctx.config.defaults.secretNamePrefix);
  } catch (err) {
    // A run-wide cause (no region, credentials or endpoint; ListSecrets denied) would fail
    // every read the same way: stop the run, once. Anything else (throttled, a 5xx after the
    // SDK's retries) may spare the per-secret reads, which have quotas of their own.
    if (err instanceof RotatorError && err.scope === 'run') {
      run.ledger.failRun(err);
      return undefined;
    }
    run.ctx.log.warn('cannot list secrets; reading them one by one', {
      errorCode: err instanceof RotatorError ? err.code : asError(err).name,
    });
    return undefined;
  }
};
