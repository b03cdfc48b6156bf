import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { addRunMetrics, runMetrics } from '../../functions/adapters/signals.js';
import { type RunReport, summarize, type UserReport } from '../../functions/domain/report.js';

const now = new Date('2026-11-28T00:00:00Z');
const row = (username: string, stale: boolean): UserReport => ({
  projectId: '5e2211c17a3e5a48f5497de3',
  username,
  secretName: `atlas-x509/p/${username}`,
  secretArn: 'arn:s',
  action: 'skipped',
  reason: 'not due',
  serialNumber: '123',
  notAfter: '2027-02-28T00:00:00.000Z',
  orphans: [],
  ...(stale ? { consumers: 'stale' as const } : {}),
});
const report = (users: UserReport[], dryRun = false): RunReport => ({
  runId: 'run-1',
  dryRun,
  startedAt: now.toISOString(),
  finishedAt: now.toISOString(),
  summary: summarize(users),
  users,
});

describe('signals: StaleConsumers', () => {
  it('counts the secrets whose consumers have not reloaded, as a gauge emitted every real run', () => {
    const users = [row('a', true), row('b', false), row('c', true)];
    expect(runMetrics(report(users), now, { criticalDays: 7 }).StaleConsumers).toBe(2);
    const metrics = new Metrics({
      namespace: 'AtlasX509Rotator',
      serviceName: 'atlas-x509-rotator',
    });
    addRunMetrics(metrics, report(users), now, { criticalDays: 7 });
    expect(metrics.serializeMetrics()).toMatchObject({ StaleConsumers: 2 });
    // 0 is emitted too: the alarm returns to OK once the secret is read.
    const fresh = new Metrics({ namespace: 'AtlasX509Rotator', serviceName: 'atlas-x509-rotator' });
    addRunMetrics(fresh, report([row('b', false)]), now, { criticalDays: 7 });
    expect(fresh.serializeMetrics()).toMatchObject({ StaleConsumers: 0 });
    const dry = new Metrics({ namespace: 'AtlasX509Rotator', serviceName: 'atlas-x509-rotator' });
    addRunMetrics(dry, report(users, true), now, { criticalDays: 7 });
    expect(dry.hasStoredMetrics()).toBe(false);
  });
});
