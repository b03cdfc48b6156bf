import type { ValidatedCertificate } from '../certificate.js';
import type { UserSettings } from '../config.js';
import type { CertificateDates } from '../renewal.js';
import type { DriftFinding } from '../report.js';
import type { SecretState } from '../stored-value.js';
import { pollList } from './listing.js';
import { heldFields, type Outcome } from './outcomes.js';
import type { UserRef } from './request.js';
import type { Run } from './run-state.js';
import { settleStored, withDrift } from './upkeep/drift.js';
import { heldBack, holdsBack, proveLogin, reportOnly, withProof } from './verify.js';

/**
 * Promote: a stored certificate becomes AWSCURRENT only once Atlas lists it (a certificate
 * Atlas does not know would fail every login), then its expiry is tagged for the next run's
 * ordering. The first certificate of an empty secret is current the moment it is stored. With
 * the project's `verify.uri`, it must pass its login check first (`verify.ts`).
 */

/** Moves AWSCURRENT to `versionId`, settles the policy and records the expiry (`upkeep/drift.ts`). */
export const makeCurrent = async (
  run: Run,
  state: SecretState,
  versionId: string,
  notAfter: Date,
  user: UserRef,
): Promise<DriftFinding[]> => {
  await run.ctx.store.promote(state, versionId);
  return settleStored(run, user, state, notAfter, false);
};

/** The outcome of a certificate just stored as `versionId`. */
export const promoteNew = async (
  run: Run,
  user: UserSettings,
  before: { state: SecretState; held: CertificateDates | undefined; reason: string },
  cert: ValidatedCertificate,
  versionId: string,
  orphans: string[],
): Promise<Outcome> => {
  const { state, held, reason } = before;
  const stored = {
    secretArn: state.arn,
    serialNumber: cert.serialNumber,
    notAfter: cert.notAfter.toISOString(),
    orphans,
  };
  if (!state.currentVersionId) {
    const drift = await settleStored(run, user, state, cert.notAfter, true);
    const first = `stored the first certificate (${reason})`;
    const row = withDrift({ ...stored, action: 'rotated', reason: first }, drift);
    return reportOnly(row, await proveLogin(run, user, cert, undefined));
  }
  const listed = await pollList(run, user, (now) =>
    now.some((c) => c.serialNumber === cert.serialNumber),
  );
  if (!listed.seen) {
    return {
      ...heldFields(state, held),
      action: 'failed',
      reason: `Atlas does not list the new certificate ${cert.serialNumber} yet; stored as AWSPENDING, not made current`,
      errorCode: 'NEW_CERTIFICATE_NOT_LISTED',
      remedy:
        'The next run promotes it once Atlas lists it; if it never does, check the Atlas user.',
      orphans,
    };
  }
  const proof = await proveLogin(run, user, cert, held);
  if (holdsBack(proof)) return heldBack(proof, cert, { state, held, orphans });
  const drift = await makeCurrent(run, state, versionId, cert.notAfter, user);
  const row = withDrift({ ...stored, action: 'rotated', reason: `rotated (${reason})` }, drift);
  return withProof(row, proof);
};
