import type { ErrorCode } from '../errors.js';
import {
  type CertificateDates,
  DAY_MS,
  heldButUnlisted,
  isCritical,
  type ListedCertificate,
  renewalTime,
  windowOpensAt,
} from '../renewal.js';
import type { SecretState } from '../stored-value.js';

/**
 * The rules that decide what happens to a user, as named, pure checks run in order; the first
 * that has something to say decides (cert-manager's trigger policies work the same way). To
 * change a rule, change its check; to add one, put it in the chain where it takes precedence.
 */

/** Why a user is refused: a code for machines, a remedy for people. */
export interface Refusal {
  code: ErrorCode;
  message: string;
  remedy: string;
}

export type Verdict =
  | ({ kind: 'refuse' } & Refusal)
  | { kind: 'due'; reason: string }
  | { kind: 'not-due'; reason: string; renewAt: Date };

/** What the checks look at: gathered once per user by the assess phase. */
export interface CheckInput {
  user: {
    projectId: string;
    username: string;
    secretName: string;
    renewBeforeDays: number | undefined;
  };
  state: SecretState | undefined;
  held: CertificateDates | undefined;
  listed: readonly ListedCertificate[];
  forced: boolean;
  now: Date;
  /** A held certificate younger than this may be missing from Atlas's list. */
  listLagGraceMs: number;
}

export interface Check<I> {
  name: string;
  evaluate(input: I): Verdict | undefined;
}

const days = (ms: number): string => {
  const d = ms / DAY_MS;
  return d >= 10 || d <= -10 ? `${Math.round(d)}` : d.toFixed(1);
};

const isoDay = (date: Date): string => date.toISOString().slice(0, 10);

const ref = (u: { projectId: string; username: string }): string => `${u.projectId}:${u.username}`;

// ---- refusals: before anything is written --------------------------------------------------

export const SecretScheduledForDeletion: Check<CheckInput> = {
  name: 'SecretScheduledForDeletion',
  evaluate: ({ state, user }) =>
    state?.deletedDate
      ? {
          kind: 'refuse',
          code: 'SECRET_SCHEDULED_FOR_DELETION',
          message: `secret ${user.secretName} is scheduled for deletion (${state.deletedDate.toISOString()})`,
          remedy: `Restore it (aws secretsmanager restore-secret --secret-id ${user.secretName}) or remove the user from the config.`,
        }
      : undefined,
};

export const SecretRotationEnabled: Check<CheckInput> = {
  name: 'SecretRotationEnabled',
  evaluate: ({ state, user }) =>
    state?.rotationEnabled
      ? {
          kind: 'refuse',
          code: 'SECRET_ROTATION_ENABLED',
          message: `secret ${user.secretName} has Secrets Manager rotation enabled: another rotator owns its versions`,
          remedy: `Turn that rotation off (aws secretsmanager cancel-rotate-secret --secret-id ${user.secretName}) if this rotator is to own the secret, or point the user at another secretName.`,
        }
      : undefined,
};

export const SecretHoldsForeignValue: Check<CheckInput> = {
  name: 'SecretHoldsForeignValue',
  evaluate: ({ state, user, forced }) =>
    state?.current?.kind === 'foreign' && !forced
      ? {
          kind: 'refuse',
          code: 'SECRET_FOREIGN_VALUE',
          message: `secret ${user.secretName} is not ours: ${state.current.problem}`,
          remedy: `Point the user at another secretName, or replace the value deliberately with --force --only ${ref(user)}.`,
        }
      : undefined,
};

export const HeldCertificateUnknownToAtlas: Check<CheckInput> = {
  name: 'HeldCertificateUnknownToAtlas',
  evaluate: ({ held, listed, now, listLagGraceMs, forced, user }) =>
    !forced && heldButUnlisted({ held, listed, now, graceMs: listLagGraceMs })
      ? {
          kind: 'refuse',
          code: 'HELD_CERTIFICATE_UNKNOWN_TO_ATLAS',
          message: `Atlas does not list the stored certificate ${held?.serialNumber} although it has not expired`,
          remedy: `Check that ${user.secretName} belongs to ${ref(user)} (was the user re-created?); replace it deliberately with --force --only ${ref(user)}.`,
        }
      : undefined,
};

// ---- due or not -------------------------------------------------------------------------------

export const PendingRotationLeft: Check<CheckInput> = {
  name: 'PendingRotationLeft',
  evaluate: ({ state }) =>
    state?.pendingVersionId
      ? { kind: 'due', reason: 'an interrupted rotation left a pending version' }
      : undefined,
};

/** The renewal rules alone: what `decide` needs to know of a user. */
export type RenewalInput = Pick<CheckInput, 'held' | 'forced' | 'now'> & {
  policy: { renewBeforeDays: number | undefined };
  /** Spreads renewals: the same key always gets the same offset in the window. */
  key: string;
};

export const ForcedByOperator: Check<RenewalInput> = {
  name: 'ForcedByOperator',
  evaluate: ({ forced }) =>
    forced ? { kind: 'due', reason: 'forced by the operator' } : undefined,
};

export const NoCertificateStored: Check<RenewalInput> = {
  name: 'NoCertificateStored',
  evaluate: ({ held }) => (held ? undefined : { kind: 'due', reason: 'no certificate stored yet' }),
};

export const CertificateExpired: Check<RenewalInput> = {
  name: 'CertificateExpired',
  evaluate: ({ held, now }) =>
    held && held.notAfter <= now
      ? { kind: 'due', reason: `stored certificate expired on ${held.notAfter.toISOString()}` }
      : undefined,
};

/** Due once the (spread) renewal time has come; otherwise says when it will. Always answers. */
export const RenewalWindow: Check<RenewalInput> = {
  name: 'RenewalWindow',
  evaluate: ({ held, policy, key, now }) => {
    if (!held) return undefined;
    const left = held.notAfter.getTime() - now.getTime();
    const renewAt = renewalTime(held, policy, key);
    if (now >= renewAt) {
      return {
        kind: 'due',
        reason: `${days(left)} days left; renewal window opened ${isoDay(windowOpensAt(held, policy))}`,
      };
    }
    return {
      kind: 'not-due',
      reason: `not due: ${days(left)} days left, renews from ${isoDay(renewAt)}`,
      renewAt,
    };
  },
};

export const RENEWAL_CHECKS: readonly Check<RenewalInput>[] = [
  ForcedByOperator,
  NoCertificateStored,
  CertificateExpired,
  RenewalWindow,
];

/** Runs checks in order; the first verdict wins. */
export const firstVerdict = <I>(checks: readonly Check<I>[], input: I): Verdict | undefined => {
  for (const check of checks) {
    const verdict = check.evaluate(input);
    if (verdict) return verdict;
  }
  return undefined;
};

export type Decision =
  | { due: true; reason: string }
  | { due: false; reason: string; renewAt: Date };

const asDecision = (verdict: Verdict | undefined): Decision => {
  if (verdict?.kind === 'due') return { due: true, reason: verdict.reason };
  if (verdict?.kind === 'not-due')
    return { due: false, reason: verdict.reason, renewAt: verdict.renewAt };
  // RenewalWindow answers whenever a certificate is held, NoCertificateStored when none is.
  throw new Error(`renewal checks gave no decision (${verdict?.kind ?? 'none'})`);
};

/** Is the certificate applications read (AWSCURRENT) due for replacement? */
export const decide = (input: {
  held: CertificateDates | undefined;
  policy: { renewBeforeDays: number | undefined };
  key: string;
  now: Date;
  force?: boolean;
}): Decision =>
  asDecision(firstVerdict(RENEWAL_CHECKS, { ...input, forced: input.force === true }));

/** The refusals, in order: a refused user is reported before anything is minted or written. */
export const REFUSALS: readonly Check<CheckInput>[] = [
  SecretScheduledForDeletion,
  SecretRotationEnabled,
  SecretHoldsForeignValue,
  HeldCertificateUnknownToAtlas,
];

/** The whole chain for one user: a refusal, or whether it is due. */
export const evaluateUser = (input: CheckInput): Refusal | Decision => {
  const refused = firstVerdict(REFUSALS, input);
  if (refused?.kind === 'refuse') {
    const { kind: _, ...refusal } = refused;
    return refusal;
  }
  const pending = PendingRotationLeft.evaluate(input);
  if (pending?.kind === 'due') return { due: true, reason: pending.reason };
  return decideFor(input.user, input.held, input.forced, input.now);
};

/** The renewal decision for a user: its key spreads its renewal inside the window. */
export const decideFor = (
  user: CheckInput['user'],
  held: CertificateDates | undefined,
  forced: boolean,
  now: Date,
): Decision =>
  decide({ held, policy: user, key: `${user.projectId}/${user.username}`, now, force: forced });

export const isRefusal = (v: Refusal | Decision): v is Refusal => 'code' in v;

// ---- what Atlas's create would refuse: before a secret is created or a mint tried ---------

/** What Atlas checks before minting, as read from the project (read only for a user about to mint). */
export interface AtlasFactsInput {
  user: { projectId: string; username: string };
  /** The user as Atlas lists it; undefined when it is not listed or the list was not read. */
  databaseUser: { x509Type: string; databaseName: string } | undefined;
  /** Whether the project has a customer CA; undefined when unknown (not readable, not read). */
  customerCa: boolean | undefined;
}

/** Atlas mints managed certificates only for `x509Type: MANAGED` users on `$external`. */
export const UserNotManagedX509: Check<AtlasFactsInput> = {
  name: 'UserNotManagedX509',
  evaluate: ({ databaseUser: u, user }) =>
    u && (u.x509Type !== 'MANAGED' || u.databaseName !== '$external')
      ? {
          kind: 'refuse',
          code: 'USER_NOT_MANAGED_X509',
          message: `Atlas refuses managed certificates for ${user.username}: its x509Type is ${u.x509Type} on ${u.databaseName}, not MANAGED on $external`,
          remedy: `Set x509Type MANAGED (database $external) on ${ref(user)} in Atlas, or remove the user from the config.`,
        }
      : undefined,
};

/** A customer CA ("advanced X.509") on the project makes Atlas refuse managed certificates. */
export const CustomerCaBlocksManaged: Check<AtlasFactsInput> = {
  name: 'CustomerCaBlocksManaged',
  evaluate: ({ customerCa, user }) =>
    customerCa
      ? {
          kind: 'refuse',
          code: 'CANNOT_GENERATE_CERT_IF_ADVANCED_X509',
          message: `Atlas refuses managed certificates in project ${user.projectId}: it has a customer CA (self-managed X.509)`,
          remedy:
            "Remove the project's customer CA if it is no longer used (disable-customer-x509; it restarts the project's clusters), or remove the project's users from the config.",
        }
      : undefined,
};

/** In the order Atlas's create checks them. */
export const ATLAS_REFUSALS: readonly Check<AtlasFactsInput>[] = [
  UserNotManagedX509,
  CustomerCaBlocksManaged,
];

// ---- the mint gate: orphans and the critical floor ----------------------------------------

export interface MintGateInput {
  /** Orphans (certificates whose keys are lost) minted within the window. */
  recentOrphans: number;
  orphanLimit: number;
  orphanWindowDays: number;
  held: CertificateDates | undefined;
  now: Date;
  criticalDays: number;
  /** 1 for the first create of this run, 2 for the retry after an unknown outcome. */
  attempt: number;
}

export type MintGate = { mint: true; pastOrphanLimit: boolean } | { mint: false; refusal: Refusal };

/**
 * Orphans count against Atlas's per-user certificate cap and cannot be deleted, so minting stops
 * at `orphanLimit` lost keys in the window, except once per run for a user with no certificate or
 * one about to expire (`criticalDays`): an expiring certificate is the outage the tool prevents.
 */
export const OrphanLimit = {
  name: 'OrphanLimit',
  evaluate: (input: MintGateInput): MintGate => {
    if (input.recentOrphans < input.orphanLimit) return { mint: true, pastOrphanLimit: false };
    if (CriticalFloor.applies(input)) return { mint: true, pastOrphanLimit: true };
    return {
      mint: false,
      refusal: {
        code: 'ORPHAN_LIMIT',
        message: `refusing to mint: ${input.recentOrphans} certificate(s) minted in the last ${input.orphanWindowDays} days were lost (orphans)`,
        remedy:
          'Atlas caps certificates per user and they cannot be deleted. Find why keys were lost (see earlier failures), fix it, and the limit clears as the orphans age out of the window.',
      },
    };
  },
};

/** No certificate, or one expiring within `criticalDays`: minted once per run past the limit. */
export const CriticalFloor = {
  name: 'CriticalFloor',
  applies: (input: MintGateInput): boolean =>
    input.attempt === 1 && isCritical(input.held, input.now, input.criticalDays),
};

export interface MintCapInput {
  /** Certificates Atlas created for the user within the window, held or not. */
  recentMints: number;
  maxMintsPerWindow: number;
  orphanWindowDays: number;
}

/**
 * The hard stop, critical users included: a certificate rejected every time (a wrong CN, a
 * proxy mangling the body) would otherwise be minted once per run without bound, each one
 * counting against Atlas's per-user cap.
 */
export const MintCap = {
  name: 'MintCap',
  evaluate: (input: MintCapInput): MintGate | undefined =>
    input.recentMints < input.maxMintsPerWindow
      ? undefined
      : {
          mint: false,
          refusal: {
            code: 'MINT_CAP',
            message: `refusing to mint: Atlas already lists ${input.recentMints} certificate(s) created for this user in the last ${input.orphanWindowDays} days (rotation.maxMintsPerWindow is ${input.maxMintsPerWindow})`,
            remedy:
              'Something keeps rejecting or losing new certificates: find it in the earlier failures and fix it. The cap clears as those certificates age out of rotation.orphanWindowDays; raise rotation.maxMintsPerWindow only if many mints a week are expected.',
          },
        },
};

/** The mint gate, in order: the hard cap, then the orphan limit with its critical floor. */
export const mintGate = (input: MintGateInput & MintCapInput): MintGate =>
  MintCap.evaluate(input) ?? OrphanLimit.evaluate(input);
