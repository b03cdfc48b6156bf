import { describe, expect, it } from 'vitest';
import { summarize, type UserReport } from '../../functions/domain/report.js';
import { formatReport } from '../../functions/domain/report-table.js';

const row = (over: Partial<UserReport>): UserReport => ({
  projectId: '5e2211c17a3e5a48f5497de3',
  username: 'app1',
  secretName: 'atlas-x509/p/app1',
  secretArn: 'arn:s',
  action: 'rotated',
  reason: `rotated (inside the renewal window); made current although its login check failed (${'x'.repeat(80)})`,
  serialNumber: '123',
  notAfter: '2027-02-28T00:00:00.000Z',
  orphans: [],
  ...over,
});

const table = (users: UserReport[]) =>
  formatReport({
    runId: 'r',
    dryRun: false,
    startedAt: '',
    finishedAt: '',
    summary: summarize(users),
    users,
  });

describe('report table: the login check', () => {
  it('tags a bypass the cut reason no longer shows, and nothing else', () => {
    expect(table([row({ verify: { outcome: 'bypassed', error: 'timed out' } })])).toContain(
      '… [login check bypassed]',
    );
    expect(table([row({ verify: { outcome: 'passed' } })])).not.toContain('[login check');
  });
});

describe('report table: stale consumers', () => {
  it('tags a secret whose consumers have not reloaded, past the cut reason', () => {
    const skipped = { action: 'skipped' as const, reason: `not due; ${'x'.repeat(120)}` };
    expect(table([row({ ...skipped, consumers: 'stale' })])).toContain('… [consumers stale]');
    expect(table([row(skipped)])).not.toContain('[consumers stale]');
  });
});
