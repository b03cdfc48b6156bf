/**
 * The rules that decide what happens to a user, as named, pure checks run in order; the first
 * that has something to say decides (cert-manager's trigger policies work the same way). To
 * change a rule, change its check; to add one, put it in the chain where it takes precedence.
 */

/** Why a user is refused: a code for machines, a remedy for people. */
export interface Refusal {
  code: string;
  message: string;
  remedy: string;
}

export type Verdict =
  | ({ kind: 'refuse' } & Refusal)
  | { kind: 'due'; reason: string }
  | { kind: 'not-due'; reason: string; renewAt: Date };

export interface Check<I> {
  name: string;
  evaluate(input: I): Verdict | undefined;
}

/** Runs checks in order; the first verdict wins. */
export const firstVerdict = <I>(checks: readonly Check<I>[], input: I): Verdict | undefined => {
  for (const check of checks) {
    const verdict = check.evaluate(input);
    if (verdict) return verdict;
  }
  return undefined;
};
