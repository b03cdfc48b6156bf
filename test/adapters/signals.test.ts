import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { EventBridgePublisher } from '../../functions/adapters/aws/events.js';
import { runEvents, runMetrics } from '../../functions/adapters/signals.js';
import type { RotatorEvent } from '../../functions/domain/events.js';
import { silentLog } from '../../functions/domain/log.js';
import { type RunReport, summarize, type UserReport } from '../../functions/domain/report.js';

const now = new Date('2026-11-28T00:00:00Z');
const row = (over: Partial<UserReport>): UserReport => ({
  projectId: '5e2211c17a3e5a48f5497de3',
  username: 'u',
  secretName: 'atlas-x509/p/u',
  secretArn: 'arn:s',
  action: 'skipped',
  reason: 'not due',
  serialNumber: '123',
  notAfter: '2027-02-28T00:00:00.000Z',
  orphans: [],
  ...over,
});
const report = (users: UserReport[], over: Partial<RunReport> = {}): RunReport => ({
  runId: 'run-1',
  dryRun: false,
  startedAt: now.toISOString(),
  finishedAt: now.toISOString(),
  summary: summarize(users),
  users,
  ...over,
});

describe('signals: metrics', () => {
  it('aggregates the run, with the smallest days to expiry', () => {
    const m = runMetrics(
      report([
        row({ username: 'a', action: 'rotated' }),
        row({ username: 'b', notAfter: '2026-12-08T00:00:00.000Z' }),
        row({
          username: 'c',
          action: 'failed',
          notAfter: undefined,
          serialNumber: undefined,
          orphans: ['9'],
        }),
      ]),
      now,
    );
    expect(m).toEqual({
      RotatedUsers: 1,
      ResumedUsers: 0,
      FailedUsers: 1,
      DeferredUsers: 0,
      Orphans: 1,
      MinDaysToExpiry: 0,
      RunCompleted: 1,
    });
  });

  it('counts a run stopped before any user row as a failure', () => {
    expect(
      runMetrics(report([], { error: { code: 'X', message: 'm', remedy: 'r' } }), now),
    ).toMatchObject({
      FailedUsers: 1,
      MinDaysToExpiry: undefined,
    });
  });

  it('reports 10 days for a certificate expiring in 10 days', () => {
    expect(
      runMetrics(report([row({ notAfter: '2026-12-08T00:00:00.000Z' })]), now).MinDaysToExpiry,
    ).toBe(10);
  });
});

describe('signals: events', () => {
  it('announces rotations, failures and approaching expiry, never key material', () => {
    const events = runEvents(
      report([
        row({ username: 'a', action: 'rotated' }),
        row({ username: 'b', action: 'resumed' }),
        row({
          username: 'c',
          action: 'failed',
          errorCode: 'ORPHAN_LIMIT',
          remedy: 'fix',
          notAfter: '2026-12-01T00:00:00.000Z',
        }),
        row({ username: 'd', action: 'deferred', notAfter: '2026-12-05T00:00:00.000Z' }),
        row({ username: 'e' }),
      ]),
      now,
    );
    expect(events.map((e) => [e.detailType, e.detail.username])).toEqual([
      ['Atlas X509 Certificate Rotated', 'a'],
      ['Atlas X509 Certificate Rotated', 'b'],
      ['Atlas X509 Rotation Failed', 'c'],
      ['Atlas X509 Certificate Approaching Expiry', 'c'],
      ['Atlas X509 Certificate Approaching Expiry', 'd'],
    ]);
    expect(events[0]?.detail).toEqual({
      runId: 'run-1',
      projectId: '5e2211c17a3e5a48f5497de3',
      username: 'a',
      secretName: 'atlas-x509/p/u',
      secretArn: 'arn:s',
      serialNumber: '123',
      notAfter: '2027-02-28T00:00:00.000Z',
    });
    expect(events[4]?.detail.daysToExpiry).toBe(7);
  });

  it('says nothing for a dry run', () => {
    expect(
      runEvents(
        report([row({ action: 'planned', notAfter: '2026-11-29T00:00:00.000Z' })], {
          dryRun: true,
        }),
        now,
      ),
    ).toEqual([]);
  });
});

describe('signals: EventBridge publisher', () => {
  const eb = mockClient(EventBridgeClient);
  beforeEach(() => eb.reset());
  afterAll(() => eb.restore());
  const events = (n: number): RotatorEvent[] =>
    Array.from({ length: n }, (_, i) => ({
      detailType: 'Atlas X509 Certificate Rotated',
      detail: { i },
    }));

  it('batches by ten on the configured bus and counts what was accepted', async () => {
    eb.on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 0 })
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException' }] });
    const accepted = await new EventBridgePublisher(new EventBridgeClient({}), silentLog, {
      busName: 'ops-bus',
    }).publish(events(13));
    expect(accepted).toBe(12);
    const calls = eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries ?? []);
    expect(calls.map((entries) => entries.length)).toEqual([10, 3]);
    expect(calls[0]?.[0]).toEqual({
      Source: 'atlas-x509-rotator',
      DetailType: 'Atlas X509 Certificate Rotated',
      Detail: '{"i":0}',
      EventBusName: 'ops-bus',
    });
  });

  it('never throws: a lost notification must not fail the work it reports', async () => {
    eb.on(PutEventsCommand).rejects(
      Object.assign(new Error('denied'), { name: 'AccessDeniedException' }),
    );
    expect(
      await new EventBridgePublisher(new EventBridgeClient({}), silentLog).publish(events(2)),
    ).toBe(0);
  });
});
