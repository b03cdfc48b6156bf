import { Metrics } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { EventBridgePublisher } from '../../functions/adapters/aws/events.js';
import { addRunMetrics, runEvents, runMetrics } from '../../functions/adapters/signals.js';
import type { RotatorEvent } from '../../functions/domain/events.js';
import { silentLog } from '../../functions/domain/log.js';
import { NO_CERTIFICATE_GRACE_HOURS } from '../../functions/domain/names.js';
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

const critical = { criticalDays: 7 };
const metricsOf = (users: UserReport[]) => runMetrics(report(users), now, critical);

describe('signals: metrics', () => {
  it('aggregates the run, with the smallest days to expiry', () => {
    const m = metricsOf([
      row({ username: 'a', action: 'rotated' }),
      row({ username: 'b', notAfter: '2026-12-08T00:00:00.000Z' }),
      row({
        username: 'c',
        action: 'failed',
        notAfter: undefined,
        serialNumber: undefined,
        certificate: 'none',
        orphans: ['9'],
        newOrphans: ['9'],
      }),
    ]);
    expect(m).toEqual({
      RotatedUsers: 1,
      ResumedUsers: 0,
      FailedUsers: 1,
      DeferredUsers: 0,
      DeferredCritical: 0,
      Orphans: 1,
      StandingOrphans: 1,
      CertificateLimitReached: 0,
      DriftRepaired: 0,
      StaleConsumers: 0,
      DeferredAtRisk: 0,
      UsersWithoutCertificate: 1,
      MinDaysToExpiry: 0,
      CatchUpRuns: 0,
      CatchUpPending: 0,
      RunCompleted: 1,
      RunNotStarted: 0,
    });
  });

  it('counts a run stopped before any user row as a failure', () => {
    expect(
      runMetrics(
        report([], { error: { code: 'LEASE_TABLE_MISSING', message: 'm', remedy: 'r' } }),
        now,
        critical,
      ),
    ).toMatchObject({
      FailedUsers: 1,
      MinDaysToExpiry: undefined,
    });
  });

  it('reports 10 days for a certificate expiring in 10 days', () => {
    expect(metricsOf([row({ notAfter: '2026-12-08T00:00:00.000Z' })]).MinDaysToExpiry).toBe(10);
  });

  const unread = { serialNumber: undefined, notAfter: undefined };
  it.each<[string, Partial<UserReport>, number | undefined]>([
    [
      'a deferred user with its tagged expiry',
      { action: 'deferred', serialNumber: undefined, notAfter: '2026-12-18T00:00:00.000Z' },
      20,
    ],
    [
      'a failed user with its tagged expiry',
      { action: 'failed', serialNumber: undefined, notAfter: '2026-12-03T00:00:00.000Z' },
      5,
    ],
    // No catch-up run follows this report: nothing will reach the user before tomorrow.
    [
      'a deferred user known to hold none',
      { action: 'deferred', ...unread, certificate: 'none' },
      0,
    ],
    ['a failed user known to hold none', { action: 'failed', ...unread, certificate: 'none' }, 0],
    ['a deferred user the run could not tell about', { action: 'deferred', ...unread }, undefined],
    ['a failed user the run could not tell about', { action: 'failed', ...unread }, undefined],
    [
      'a disabled user without a certificate',
      { action: 'skipped', ...unread, certificate: 'none' },
      undefined,
    ],
  ])('MinDaysToExpiry for %s', (_, over, days) => {
    expect(
      metricsOf([row({ action: 'rotated', notAfter: undefined }), row(over)]).MinDaysToExpiry,
    ).toBe(days);
  });

  it('counts as critical the deferred users with no certificate or one inside criticalDays', () => {
    const deferred = (username: string, over: Partial<UserReport>) =>
      row({ username, action: 'deferred', serialNumber: undefined, ...over });
    const users = [
      deferred('none', { notAfter: undefined, certificate: 'none' }),
      deferred('six-days', { notAfter: '2026-12-04T00:00:00.000Z' }),
      deferred('eight-days', { notAfter: '2026-12-06T00:00:00.000Z' }),
      deferred('unknown', { notAfter: undefined }),
      row({ username: 'failed-soon', action: 'failed', notAfter: '2026-11-29T00:00:00.000Z' }),
    ];
    expect(metricsOf(users)).toMatchObject({ DeferredUsers: 4, DeferredCritical: 2 });
    expect(runMetrics(report(users), now, { criticalDays: 9 }).DeferredCritical).toBe(3);
  });

  it('counts each orphan once, in the run that first reports it, and every standing one', () => {
    const first = metricsOf([
      row({ username: 'a', orphans: ['1', '2'], newOrphans: ['1', '2'] }),
      row({ username: 'b', action: 'failed', orphans: ['3'], newOrphans: ['3'] }),
    ]);
    expect(first).toMatchObject({ Orphans: 3, StandingOrphans: 3 });
    const next = metricsOf([
      row({ username: 'a', orphans: ['1', '2', '4'], newOrphans: ['4'] }),
      row({ username: 'b', action: 'failed', orphans: ['3'] }),
    ]);
    expect(next).toMatchObject({ Orphans: 1, StandingOrphans: 4 });
  });

  it('counts the users Atlas refused for its per-user certificate limit', () => {
    const limited = (username: string) =>
      row({ username, action: 'failed', errorCode: 'ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED' });
    const m = metricsOf([
      limited('a'),
      limited('b'),
      row({ username: 'c', action: 'failed', errorCode: 'ORPHAN_LIMIT' }),
    ]);
    expect(m).toMatchObject({ FailedUsers: 3, CertificateLimitReached: 2 });
    expect(metricsOf([row({})]).CertificateLimitReached).toBe(0);
  });
});

const DAY = 86_400_000;
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000).toISOString();
/** The report of a run a catch-up run follows: its chain began `since`. */
const chained = (users: UserReport[], since: string): RunReport =>
  report(users, { catchUp: { next: 'catch-up', deferred: 3, runs: 1, of: 24, since } });
const noCertificate = (username: string) =>
  row({
    username,
    action: 'deferred',
    serialNumber: undefined,
    notAfter: undefined,
    certificate: 'none',
  });

// Issue #25.2: on main, these users counted as 0 days left and DeferredCritical, and both
// alarms paged the run that also reported `catchUp.next: "catch-up"`.
describe('signals: a first deployment does not page (#25.2)', () => {
  const firstDay = [
    row({ username: 'a', action: 'rotated', notAfter: '2027-02-28T00:00:00.000Z' }),
    noCertificate('b'),
    noCertificate('c'),
  ];

  it('users with no certificate yet that the catch-up chain will reach are neither 0 days nor critical', () => {
    const m = runMetrics(chained(firstDay, hoursAgo(1)), now, critical);
    expect(m).toMatchObject({
      DeferredUsers: 2,
      DeferredCritical: 0,
      DeferredAtRisk: 0,
      UsersWithoutCertificate: 2,
      MinDaysToExpiry: 92,
    });
  });

  it(`they page once they have waited ${NO_CERTIFICATE_GRACE_HOURS} hours since the chain began`, () => {
    const late = runMetrics(
      chained(firstDay, hoursAgo(NO_CERTIFICATE_GRACE_HOURS + 0.1)),
      now,
      critical,
    );
    expect(late).toMatchObject({ DeferredCritical: 2, DeferredAtRisk: 2, MinDaysToExpiry: 0 });
    expect(
      runMetrics(chained(firstDay, hoursAgo(NO_CERTIFICATE_GRACE_HOURS - 0.1)), now, critical)
        .DeferredCritical,
    ).toBe(0);
  });

  it('they page when no catch-up run follows (the chain ended, or catch-up is off)', () => {
    const ended = report(firstDay, {
      catchUp: { next: 'schedule', reason: '24 catch-up runs in a row' },
    });
    expect(runMetrics(ended, now, critical)).toMatchObject({
      DeferredCritical: 2,
      MinDaysToExpiry: 0,
    });
  });

  it('a true page stays: an expiring certificate deferred, or a user that failed with none', () => {
    const m = runMetrics(
      chained(
        [
          noCertificate('b'),
          row({ username: 'soon', action: 'deferred', notAfter: '2026-12-01T00:00:00.000Z' }),
          row({ username: 'f', action: 'failed', notAfter: undefined, certificate: 'none' }),
        ],
        hoursAgo(1),
      ),
      now,
      critical,
    );
    expect(m).toMatchObject({
      DeferredCritical: 1,
      DeferredAtRisk: 1,
      FailedUsers: 1,
      MinDaysToExpiry: 0,
      UsersWithoutCertificate: 2,
    });
  });
});

// Issue #25.3: DeferredNotShrinking read DeferredUsers, which counts users far from renewal that
// a run over a small bucket defers every day (catch-up rightly starts nothing for them).
describe('signals: only deferrals at risk count for DeferredNotShrinking (#25.3)', () => {
  const window = { ...critical, renewalWindowDays: () => 30 };
  const far = (i: number) =>
    row({
      username: `far${i}`,
      action: 'deferred',
      serialNumber: undefined,
      notAfter: new Date(now.getTime() + (60 + i) * DAY).toISOString(),
    });

  it('structural deferral of users far from renewal is not at risk', () => {
    const users = Array.from({ length: 80 }, (_, i) => far(i));
    expect(runMetrics(report(users), now, window)).toMatchObject({
      DeferredUsers: 80,
      DeferredAtRisk: 0,
      DeferredCritical: 0,
    });
  });

  it('users inside their window (or a day from it), or of unknown expiry, are at risk', () => {
    const users = [
      far(0),
      row({ username: 'in-window', action: 'deferred', notAfter: '2026-12-20T00:00:00.000Z' }),
      // 30 days + a day of margin from now: the next regular run may reach it inside its window.
      row({ username: 'edge', action: 'deferred', notAfter: '2026-12-28T12:00:00.000Z' }),
      row({
        username: 'unknown',
        action: 'deferred',
        notAfter: undefined,
        serialNumber: undefined,
      }),
    ];
    expect(runMetrics(report(users), now, window)).toMatchObject({
      DeferredUsers: 4,
      DeferredAtRisk: 3,
    });
    // Without the windows (no config to tell), every deferral with an expiry counts.
    expect(runMetrics(report(users), now, critical).DeferredAtRisk).toBe(4);
  });
});

describe('signals: EMF', () => {
  it('a run the run lock refused emits RunNotStarted only; a catch-up tick with nothing to do, nothing', () => {
    const refused = new Metrics({ namespace: 'AtlasX509Rotator', serviceName: 'svc' });
    const notRun = {
      notRun: 'another run (r-0) holds the run lock',
      lockedOut: { holder: 'r-0', until: now.toISOString(), retry: 'a catch-up note is left' },
    };
    addRunMetrics(refused, report([], notRun), now, critical);
    const emf = refused.serializeMetrics() as unknown as Record<string, unknown>;
    expect(emf.RunNotStarted).toBe(1);
    expect(emf.RunCompleted).toBeUndefined();
    const idle = new Metrics({ namespace: 'AtlasX509Rotator', serviceName: 'svc' });
    addRunMetrics(idle, report([], { notRun: 'nothing to catch up' }), now, critical);
    expect(idle.hasStoredMetrics()).toBe(false);
  });

  it('emits the new counters on every real run, and nothing for a dry run', () => {
    const metrics = new Metrics({
      namespace: 'AtlasX509Rotator',
      serviceName: 'atlas-x509-rotator',
    });
    const users = [
      row({
        action: 'deferred',
        serialNumber: undefined,
        notAfter: undefined,
        certificate: 'none',
      }),
      row({ username: 'b', orphans: ['5', '6'], newOrphans: ['6'] }),
    ];
    // #25.2: a first deployment's run, a catch-up run following; on main it emitted
    // DeferredCritical 1 and MinDaysToExpiry 0 here, and paged.
    addRunMetrics(metrics, chained(users, hoursAgo(0)), now, critical);
    const emf = metrics.serializeMetrics() as unknown as Record<string, unknown>;
    expect(emf).toMatchObject({
      DeferredUsers: 1,
      DeferredCritical: 0,
      DeferredAtRisk: 0,
      UsersWithoutCertificate: 1,
      Orphans: 1,
      StandingOrphans: 2,
      CertificateLimitReached: 0,
      MinDaysToExpiry: 92,
      CatchUpPending: 1,
      RunNotStarted: 0,
    });
    const quiet = new Metrics({ namespace: 'AtlasX509Rotator', serviceName: 'atlas-x509-rotator' });
    addRunMetrics(quiet, report(users, { dryRun: true }), now, critical);
    expect(quiet.hasStoredMetrics()).toBe(false);
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
