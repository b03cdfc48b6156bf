import { describe, expect, it } from 'vitest';
import { type CertificateDates, DAY_MS } from '../../../../functions/domain/renewal.js';
import { type Check, firstVerdict } from '../../../../functions/domain/rotation/policies/chain.js';
import {
  CriticalFloor,
  type MintGate,
  type MintGateInput,
  OrphanLimit,
  WithinOrphanLimit,
} from '../../../../functions/domain/rotation/policies/mint-gate.js';

const at = (iso: string) => new Date(iso);
// A 3-month Atlas certificate; on `now` it has 70 days left and is not due.
const held: CertificateDates = {
  serialNumber: '100',
  notBefore: at('2026-08-10T02:06:35Z'),
  notAfter: at('2026-11-10T03:06:35Z'),
};
const now = at('2026-09-01T00:00:00Z');
/** Puts each row's expectation into its title. */
const titled = <O, E>(rows: [string, O, E][]): [string, O, E][] =>
  rows.map(([label, over, want]) => [`${label} → ${String(want ?? 'passes')}`, over, want]);

describe('policies: the mint gate', () => {
  const critical = at('2026-11-05T00:00:00Z'); // 5 days left, under criticalDays
  const sevenLeft = new Date(held.notAfter.getTime() - 7 * DAY_MS);
  const gate = (over: Partial<MintGateInput>): MintGateInput => ({
    recentOrphans: 0,
    orphanLimit: 3,
    orphanWindowDays: 7,
    held,
    now,
    criticalDays: 7,
    attempt: 1,
    ...over,
  });
  const word = (g: MintGate | undefined) =>
    g?.kind === 'mint' ? (g.pastOrphanLimit ? 'mint past limit' : 'mint') : g?.code;
  const orphanChecks: Check<MintGateInput, MintGate>[] = [
    WithinOrphanLimit,
    CriticalFloor,
    OrphanLimit,
  ];
  const full = { recentOrphans: 3 };
  const LIMIT = 'ORPHAN_LIMIT';

  it.each(
    titled<Partial<MintGateInput>, string>([
      ['no orphans', {}, 'mint'],
      ['below the limit', { recentOrphans: 2 }, 'mint'],
      ['below the limit, critical, try 2', { recentOrphans: 2, now: critical, attempt: 2 }, 'mint'],
      ['at the limit, not critical', full, LIMIT],
      ['past the limit, not critical', { recentOrphans: 9 }, LIMIT],
      ['at the limit, exactly criticalDays left', { ...full, now: sevenLeft }, LIMIT],
      ['at the limit, critical, try 1', { ...full, now: critical }, 'mint past limit'],
      ['at the limit, critical, try 2', { ...full, now: critical, attempt: 2 }, LIMIT],
      ['at the limit, nothing held, try 1', { ...full, held: undefined }, 'mint past limit'],
      ['at the limit, nothing held, try 2', { ...full, held: undefined, attempt: 2 }, LIMIT],
    ]),
  )('OrphanLimit: %s', (_, over, want) => {
    expect(word(firstVerdict(orphanChecks, gate(over)))).toBe(want);
  });

  it('OrphanLimit refuses with the count, the window and a remedy', () => {
    expect(OrphanLimit.evaluate(gate({ recentOrphans: 4, orphanWindowDays: 14 }))).toEqual({
      kind: 'refuse',
      code: LIMIT,
      message: 'refusing to mint: 4 certificate(s) minted in the last 14 days were lost (orphans)',
      remedy: expect.stringMatching(/cannot be deleted.*age out of the window/),
    });
  });

  it.each(
    titled<Partial<MintGateInput>, boolean>([
      ['nothing held', { held: undefined }, true],
      ['about to expire', { now: critical }, true],
      ['not critical', {}, false],
      ['about to expire, second attempt', { now: critical, attempt: 2 }, false],
    ]),
  )('CriticalFloor: %s', (_, over, want) => {
    expect(CriticalFloor.evaluate(gate(over)) !== undefined).toBe(want);
  });
});
