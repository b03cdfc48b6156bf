import { type CertificateDates, DAY_MS, renewalTime, windowOpensAt } from '../../renewal.js';
import { type Check, firstVerdict, type Refusal, type Verdict } from './chain.js';
import { type CheckInput, REFUSALS } from './refusals.js';

/** Renewal: whether the certificate applications read (AWSCURRENT) is due for replacement. */

const days = (ms: number): string => {
  const d = ms / DAY_MS;
  return d >= 10 || d <= -10 ? `${Math.round(d)}` : d.toFixed(1);
};

const isoDay = (date: Date): string => date.toISOString().slice(0, 10);

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
