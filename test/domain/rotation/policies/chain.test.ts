import { describe, expect, it, vi } from 'vitest';
import {
  firstVerdict,
  type Verdict,
} from '../../../../functions/domain/rotation/policies/chain.js';

describe('policies: the chain', () => {
  const due = (reason: string): Verdict => ({ kind: 'due', reason });
  const refuse: Verdict = {
    kind: 'refuse',
    code: 'SECRET_FOREIGN_VALUE',
    message: 'm',
    remedy: 'r',
  };
  it.each<[string, (Verdict | undefined)[], Verdict | undefined, number]>([
    ['no checks', [], undefined, 0],
    ['all pass', [undefined, undefined], undefined, 2],
    ['the first that answers wins', [undefined, due('b'), due('c')], due('b'), 2],
    ['a refusal first', [refuse, due('b')], refuse, 1],
  ])('firstVerdict: %s', (_, verdicts, want, evaluated) => {
    const checks = verdicts.map((v, i) => ({ name: `c${i}`, evaluate: vi.fn((_: string) => v) }));
    expect(firstVerdict(checks, 'input')).toEqual(want);
    expect(checks.map((c) => c.evaluate.mock.calls)).toEqual(
      checks.map((_, i) => (i < evaluated ? [['input']] : [])),
    );
  });
});
