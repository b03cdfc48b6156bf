import type { UserSettings } from '../config/types.js';
import { type CertificateDates, findOrphans, type ListedCertificate } from '../renewal.js';
import { type SecretState, versionIdFor } from '../stored-value.js';
import { atlasRefusal } from './atlas-facts.js';
import { type Failure, refused, toDates } from './outcomes.js';
import { firstVerdict } from './policies/chain.js';
import { type Decision, renewalKey, toDecision, USER_CHECKS } from './policies/renewal.js';
import type { AtlasCertificate } from './ports.js';
import { requestIdentity } from './request.js';
import { forcedFor, type Run } from './run-state.js';
import { servedBy } from './served.js';

/**
 * Assess: gather what a decision needs (Atlas's list, the secret), once, and run the policy
 * chain over it. Reads only.
 */

/** Everything known about a user before acting: the basis of every decision. */
export interface Assessment {
  state: SecretState | undefined;
  held: CertificateDates | undefined;
  listed: AtlasCertificate[];
  orphans: ListedCertificate[];
  decision: Decision;
  /** Forced by the request, and not served already by an earlier try of it. */
  forced: boolean;
}

/**
 * Reads Atlas's list (unless `listedJustNow` is given) and the secret, and decides. With
 * `indexed` (the secret's metadata from the index; null: not in it) a steady-state user costs
 * no secret read. A refused user comes back as its failure, carrying the state read.
 */
export const assess = async (
  run: Run,
  user: UserSettings,
  indexed?: SecretState | null,
  listedJustNow?: AtlasCertificate[],
): Promise<Assessment | Failure> => {
  const { ctx } = run;
  const asked = forcedFor(run, user);
  const listed = listedJustNow ?? (await ctx.atlas.listCertificates(user.projectId, user.username));
  const { state, held } = await readState(run, user, listed, indexed);
  // A forced request is served once: the secret's requests tag (read with its metadata) says
  // whether this request already stored a version (`served.ts`).
  const id = asked ? requestIdentity(run.request) : undefined;
  const record = servedBy(state, id);
  const served = record !== undefined;
  const forced = asked && !served;
  const now = ctx.clock.now();
  const verdict = firstVerdict(USER_CHECKS, {
    user,
    state,
    held,
    listed,
    forced,
    now,
    listLagGraceMs: run.tuning.listLagGraceMs,
    policy: user,
    key: renewalKey(user),
  });
  if (verdict?.kind === 'refuse') return refused(verdict, { state });
  const chained = toDecision(verdict);
  const decided: Decision =
    served && !chained.due
      ? {
          ...chained,
          reason: `forced request already served: request ${id} stored version ${record.version}…; ${chained.reason}`,
        }
      : chained;
  const decision = await atlasWouldRefuse(run, user, state, held, decided);
  if ('failed' in decision) return decision;
  const orphans = findOrphans({
    listed,
    isHeld: (serial) => state?.versions.has(versionIdFor(serial)) ?? false,
    held,
    managedSince: state?.createdDate ?? now,
    now,
  });
  return { state, held, listed, orphans, decision, forced };
};

/**
 * Atlas's own refusals of a create (`ATLAS_REFUSALS`), checked before a secret is created or a
 * mint tried: for a user about to mint, and in a dry run for every user, so the plan predicts
 * the run. A due user Atlas would refuse fails (in a dry run, `would fail: <code>: …`); a user
 * that is not due keeps its decision, which in a dry run says what its renewal would meet.
 * Finishing a pending version mints nothing, so it is not checked. A refused user comes back
 * as its failure.
 */
const atlasWouldRefuse = async (
  run: Run,
  user: UserSettings,
  state: SecretState | undefined,
  held: CertificateDates | undefined,
  decision: Decision,
): Promise<Decision | Failure> => {
  const { dryRun } = run.request;
  if (state?.pendingVersionId || !(decision.due || dryRun)) return decision;
  const refusal = await atlasRefusal(run, user);
  if (!refusal) return decision;
  const { code, message } = refusal;
  if (decision.due) {
    const said = dryRun ? `would fail: ${code}: ${message}` : `not minting: ${message}`;
    // The failed row still names the certificate held: read the value the index spared.
    const shown =
      held && state && !state.current
        ? await run.ctx.store.read(user.secretName, user).catch(() => state)
        : state;
    return refused({ ...refusal, message: said }, { state: shown });
  }
  return { ...decision, reason: `${decision.reason}; its renewal would fail: ${code}: ${message}` };
};

/**
 * The secret's state and the certificate it holds. The index names the current version,
 * whose id derives from the serial, and Atlas's list dates that serial: no value needs
 * reading. Anything else (pending, unlisted, foreign, no index) reads the value.
 */
const readState = async (
  run: Run,
  user: UserSettings,
  listed: readonly AtlasCertificate[],
  indexed: SecretState | null | undefined,
): Promise<{ state: SecretState | undefined; held: CertificateDates | undefined }> => {
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
  const state = await run.ctx.store.read(user.secretName, user);
  return { state, held: toDates(state) };
};
