import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../../../functions/domain/renewal.js';
import { MintCap, mintGate } from '../../../../functions/domain/rotation/policies/mint-gate.js';

const now = new Date('2026-09-01T00:00:00Z');
const base = {
  orphanLimit: 2,
  orphanWindowDays: 7,
  criticalDays: 7,
  maxMintsPerWindow: 4,
  now,
  attempt: 1,
};
const expiring = {
  serialNumber: '1',
  notBefore: new Date(now.getTime() - 88 * DAY_MS),
  notAfter: new Date(now.getTime() + 2 * DAY_MS),
};
const healthy = { ...expiring, notAfter: new Date(now.getTime() + 30 * DAY_MS) };

describe('mint gate: the cap, then the orphan limit and its critical floor', () => {
  it.each([
    ['under both', { recentMints: 1, recentOrphans: 0, held: healthy }, 'mint'],
    [
      'orphan limit, not critical',
      { recentMints: 2, recentOrphans: 2, held: healthy },
      'ORPHAN_LIMIT',
    ],
    [
      'orphan limit, critical: the floor',
      { recentMints: 2, recentOrphans: 2, held: expiring },
      'past',
    ],
    [
      'at the cap, critical: the cap wins',
      { recentMints: 4, recentOrphans: 4, held: expiring },
      'MINT_CAP',
    ],
    [
      'at the cap, no certificate at all',
      { recentMints: 4, recentOrphans: 0, held: undefined },
      'MINT_CAP',
    ],
    ['one below the cap, critical', { recentMints: 3, recentOrphans: 3, held: expiring }, 'past'],
  ] as const)('%s', (_, input, expected) => {
    const gate = mintGate({ ...base, ...input });
    if (expected === 'mint') expect(gate).toEqual({ kind: 'mint', pastOrphanLimit: false });
    else if (expected === 'past') expect(gate).toEqual({ kind: 'mint', pastOrphanLimit: true });
    else expect(gate).toMatchObject({ kind: 'refuse', code: expected });
  });

  it('the refusal names the setting and how it clears', () => {
    const gate = MintCap.evaluate({ recentMints: 5, maxMintsPerWindow: 4, orphanWindowDays: 7 });
    expect(gate).toMatchObject({
      kind: 'refuse',
      message: expect.stringContaining('5 certificate(s) created for this user in the last 7 days'),
      remedy: expect.stringContaining('rotation.maxMintsPerWindow'),
    });
  });
});
