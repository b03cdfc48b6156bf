import { describe, expect, it } from 'vitest';
import { runMetrics } from '../../functions/adapters/signals.js';
import { type RunReport, summarize, type UserReport } from '../../functions/domain/report.js';

const now = new Date('2026-11-28T00:00:00Z');
const row = (username: string, drift?: UserReport['drift']): UserReport => ({
  projectId: '5e2211c17a3e5a48f5497de3',
  username,
  secretName: `atlas-x509/p/${username}`,
  secretArn: 'arn:s',
  action: 'skipped',
  reason: 'not due',
  serialNumber: '123',
  notAfter: '2027-02-28T00:00:00.000Z',
  orphans: [],
  ...(drift ? { drift } : {}),
});
const report = (users: UserReport[]): RunReport => ({
  runId: 'run-1',
  dryRun: false,
  startedAt: now.toISOString(),
  finishedAt: now.toISOString(),
  summary: summarize(users),
  users,
});

describe('signals: DriftRepaired', () => {
  it('counts the secrets with something repaired, once each; unrepaired drift is not counted', () => {
    const policy = { what: 'resource policy', found: 'consumers changed in config' } as const;
    const m = runMetrics(
      report([
        row('a', [
          { ...policy, repaired: true },
          { what: 'tags', found: 'expiry tag missing', repaired: true },
        ]),
        row('b', [{ what: 'tags', found: 'expiry tag missing', repaired: true }]),
        row('c', [
          { ...policy, repaired: false, error: 'refused', errorCode: 'RESOURCE_POLICY_REFUSED' },
        ]),
        row('d'),
      ]),
      now,
      { criticalDays: 7 },
    );
    expect(m.DriftRepaired).toBe(2);
    expect(runMetrics(report([row('d')]), now, { criticalDays: 7 }).DriftRepaired).toBe(0);
  });
});
