/**
 * The rules that decide what happens to a user, as named, pure checks run in order; the first
 * that has something to say decides (cert-manager's trigger policies work the same way). Every
 * chain has this one shape and one evaluator (`firstVerdict`): the refusals, the renewal rules
 * (`USER_CHECKS` runs both, with a pending rotation between them), Atlas's refusals, and the mint
 * gate. To change a rule, change its check; to add one, put it in its chain where it takes
 * precedence.
 */
import type { ErrorCode } from '../../errors.js';

/** Why a user is refused: a code for machines, a remedy for people. */
export interface Refusal {
  code: ErrorCode;
  message: string;
  remedy: string;
}

export type Refuse = { kind: 'refuse' } & Refusal;
export type Due = { kind: 'due'; reason: string };
export type NotDue = { kind: 'not-due'; reason: string; renewAt: Date };
/** The mint gate's yes: a create may be tried (`pastOrphanLimit`: only by the critical floor). */
export type Mint = { kind: 'mint'; pastOrphanLimit: boolean };

export type Verdict = Refuse | Due | NotDue | Mint;

/** One rule: a verdict, or undefined when it has nothing to say. `V`: the verdicts it gives. */
export interface Check<I, V extends Verdict = Verdict> {
  name: string;
  evaluate(input: I): V | undefined;
}

/** Runs checks in order; the first verdict wins. */
export const firstVerdict = <I, V extends Verdict>(
  checks: readonly Check<I, V>[],
  input: I,
): V | undefined => {
  for (const check of checks) {
    const verdict = check.evaluate(input);
    if (verdict) return verdict;
  }
  return undefined;
};

/** The refusal a verdict carries, if it refuses. */
export const refusalOf = (verdict: Verdict | undefined): Refusal | undefined => {
  if (verdict?.kind !== 'refuse') return undefined;
  const { kind: _, ...refusal } = verdict;
  return refusal;
};
