import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { addRunMetrics, runEvents, runMetrics } from '../../functions/adapters/signals.js';
import { type RunReport, summarize, type UserReport } from '../../functions/domain/report.js';

const now = new Date('2026-11-28T00:00:00Z');
const critical = { criticalDays: 7 };
const row = (username: string, over: Partial<UserReport> = {}): UserReport => ({
  projectId: '5e2211c17a3e5a48f5497de3',
  username,
  secretName: `atlas-x509/p/${username}`,
  secretArn: 'arn:s',
  action: 'rotated',
  reason: 'rotated (renewal window)',
  serialNumber: '123',
  notAfter: '2027-02-28T00:00:00.000Z',
  orphans: [],
  ...over,
});
const report = (users: UserReport[]): RunReport => ({
  runId: 'run-1',
  dryRun: false,
  startedAt: now.toISOString(),
  finishedAt: now.toISOString(),
  summary: summarize(users),
  users,
});
const bypassed = { outcome: 'bypassed', error: 'MongoServerSelectionError: timed out' } as const;

describe('signals: the login check (verify.uri)', () => {
  it('counts certificates made current past a failed check; absent where no check ran', () => {
    const users = [
      row('a', { verify: bypassed }),
      row('b', { verify: { outcome: 'passed' } }),
      row('c', {
        action: 'failed',
        errorCode: 'VERIFY_FAILED',
        verify: { outcome: 'failed', error: 'x' },
      }),
    ];
    expect(runMetrics(report(users), now, critical).VerifyBypassed).toBe(1);
    expect(runMetrics(report([row('d')]), now, critical).VerifyBypassed).toBeUndefined();

    const metrics = new Metrics({
      namespace: 'AtlasX509Rotator',
      serviceName: 'atlas-x509-rotator',
    });
    addRunMetrics(metrics, report(users), now, critical);
    expect(metrics.serializeMetrics()).toMatchObject({ VerifyBypassed: 1, FailedUsers: 1 });
    const none = new Metrics({ namespace: 'AtlasX509Rotator', serviceName: 'atlas-x509-rotator' });
    addRunMetrics(none, report([row('d')]), now, critical);
    expect(none.serializeMetrics()).not.toHaveProperty('VerifyBypassed');
  });

  it('says so in the Rotated event of a bypass, and in the Failed event of a held certificate', () => {
    const events = runEvents(
      report([
        row('a', { verify: bypassed }),
        row('c', {
          action: 'failed',
          errorCode: 'VERIFY_FAILED',
          reason: 'certificate 9 stored as AWSPENDING, not made current: …',
          verify: { outcome: 'failed', error: 'x' },
        }),
        row('e'),
      ]),
      now,
    );
    expect(events.map((e) => [e.detailType, e.detail.verify])).toEqual([
      ['Atlas X509 Certificate Rotated', bypassed],
      ['Atlas X509 Rotation Failed', { outcome: 'failed', error: 'x' }],
      ['Atlas X509 Certificate Rotated', undefined],
    ]);
    expect(events[1]?.detail.errorCode).toBe('VERIFY_FAILED');
    // JSON drops the absent field: events of deployments without the check stay as they were.
    expect(JSON.stringify(events[2]?.detail)).not.toContain('verify');
  });
});
