import { describe, expect, it } from 'vitest';
import { runEvents } from '../../functions/adapters/signals.js';
import {
  type RunReport,
  STOPPED_REASON,
  summarize,
  type UserReport,
} from '../../functions/domain/report.js';

/** The report says a run's stop once; an event, read on its own, carries it whole. */

const now = new Date('2026-11-28T00:00:00Z');
const row = (username: string, over: Partial<UserReport> = {}): UserReport => ({
  projectId: '5e2211c17a3e5a48f5497de3',
  username,
  secretName: `atlas-x509/p/${username}`,
  secretArn: undefined,
  action: 'failed',
  reason: STOPPED_REASON,
  errorCode: 'LEASE_TABLE_MISSING',
  serialNumber: undefined,
  notAfter: undefined,
  orphans: [],
  ...over,
});
const stoppedRun = (users: UserReport[]): RunReport => ({
  runId: 'run-1',
  dryRun: false,
  startedAt: now.toISOString(),
  finishedAt: now.toISOString(),
  summary: summarize(users),
  error: {
    code: 'LEASE_TABLE_MISSING',
    message: 'Lease table locks does not exist',
    remedy: 'Deploy the stack, or create it: aws dynamodb create-table --table-name locks …',
  },
  users,
});

describe('events of a stopped run', () => {
  it('give each stopped user’s Failed event the run’s message and remedy', () => {
    const report = stoppedRun([row('a'), row('b')]);
    const details = runEvents(report, now).map((e) => [e.detailType, e.detail]);
    expect(details).toEqual(
      ['a', 'b'].map((username) => [
        'Atlas X509 Rotation Failed',
        expect.objectContaining({
          username,
          errorCode: 'LEASE_TABLE_MISSING',
          reason: 'run stopped: Lease table locks does not exist',
          remedy: report.error?.remedy,
        }),
      ]),
    );
  });

  it('keep a user’s own failure as it is, in a run that stopped after it', () => {
    const own = row('a', {
      reason: 'Atlas refused the user',
      errorCode: 'USER_NOT_MANAGED_X509',
      remedy: 'Set x509Type MANAGED',
    });
    const [event] = runEvents(stoppedRun([own]), now);
    expect(event?.detail).toMatchObject({
      reason: 'Atlas refused the user',
      errorCode: 'USER_NOT_MANAGED_X509',
      remedy: 'Set x509Type MANAGED',
    });
  });
});
