import { type CertificateDates, DAY_MS, renewalTime, windowOpensAt } from '../../renewal.js';
import { type Check, type Due, firstVerdict, type NotDue, type Refuse } from './chain.js';
import { type CheckInput, REFUSALS } from './refusals.js';

/** Renewal: whether the certificate applications read (AWSCURRENT) is due for replacement. */

const days = (ms: number): string => {
  const d = ms / DAY_MS;
  return d >= 10 || d <= -10 ? `${Math.round(d)}` : d.toFixed(1);
};

const isoDay = (date: Date): string => date.toISOString().slice(0, 10);

/** Finishing an interrupted rotation comes before any renewal rule. */
export const PendingRotationLeft: Check<Pick<CheckInput, 'state'>, Due> = {
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

export const ForcedByOperator: Check<RenewalInput, Due | NotDue> = {
  name: 'ForcedByOperator',
  evaluate: ({ forced }) =>
    forced ? { kind: 'due', reason: 'forced by the operator' } : undefined,
};

export const NoCertificateStored: Check<RenewalInput, Due | NotDue> = {
  name: 'NoCertificateStored',
  evaluate: ({ held }) => (held ? undefined : { kind: 'due', reason: 'no certificate stored yet' }),
};

export const CertificateExpired: Check<RenewalInput, Due | NotDue> = {
  name: 'CertificateExpired',
  evaluate: ({ held, now }) =>
    held && held.notAfter <= now
      ? { kind: 'due', reason: `stored certificate expired on ${held.notAfter.toISOString()}` }
      : undefined,
};

/** Due once the (spread) renewal time has come; otherwise says when it will. Always answers. */
export const RenewalWindow: Check<RenewalInput, Due | NotDue> = {
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

export const RENEWAL_CHECKS: readonly Check<RenewalInput, Due | NotDue>[] = [
  ForcedByOperator,
  NoCertificateStored,
  CertificateExpired,
  RenewalWindow,
];

/** The renewal decision a user's assessment carries. */
export type Decision =
  | { due: true; reason: string }
  | { due: false; reason: string; renewAt: Date };

/** The renewal chain's answer as a decision: it always answers. */
export const toDecision = (verdict: Due | NotDue | undefined): Decision => {
  if (verdict?.kind === 'due') return { due: true, reason: verdict.reason };
  if (verdict?.kind === 'not-due')
    return { due: false, reason: verdict.reason, renewAt: verdict.renewAt };
  // RenewalWindow answers whenever a certificate is held, NoCertificateStored when none is.
  throw new Error('renewal checks gave no decision (none)');
};

/** Is the certificate applications read (AWSCURRENT) due for replacement? */
export const decide = (input: {
  held: CertificateDates | undefined;
  policy: { renewBeforeDays: number | undefined };
  key: string;
  now: Date;
  force?: boolean;
}): Decision =>
  toDecision(firstVerdict(RENEWAL_CHECKS, { ...input, forced: input.force === true }));

/** A user's renewal key: it spreads the user's renewal inside the window. */
export const renewalKey = (user: { projectId: string; username: string }): string =>
  `${user.projectId}/${user.username}`;

/** What the whole chain for one user looks at: the refusals' input and the renewal rules'. */
export type UserInput = CheckInput & RenewalInput;

/**
 * The whole chain for one user, in order: the refusals (a refused user is reported before
 * anything is minted or written), an interrupted rotation, then the renewal rules.
 */
export const USER_CHECKS: readonly Check<UserInput, Refuse | Due | NotDue>[] = [
  ...REFUSALS,
  PendingRotationLeft,
  ...RENEWAL_CHECKS,
];
