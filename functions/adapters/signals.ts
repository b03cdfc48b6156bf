import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { RotatorEvent } from '../domain/events.js';
import { NO_CERTIFICATE_GRACE_HOURS, type RunMetrics } from '../domain/names.js';
import { DAY_MS } from '../domain/renewal.js';
import { type RunReport, STOPPED_REASON, type UserReport } from '../domain/report.js';
import { farFromRenewal } from '../domain/rotation/catch-up.js';

/**
 * What a finished run tells the outside world: aggregate metrics for alarms and the dashboard
 * (a custom metric per user would cost real money at scale), and events per user for
 * consumers. Pure: derived from the report alone.
 */

/** Certificates expiring sooner than this are announced on every run until replaced. */
export const APPROACHING_EXPIRY_DAYS = 14;

/** Atlas's refusal of a create once a user has as many certificates as Atlas allows. */
export const CERTIFICATE_LIMIT_CODE = 'ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED';

/**
 * A deferred user known to hold no certificate that the catch-up chain will reach: a catch-up
 * run follows this one and the chain began less than NO_CERTIFICATE_GRACE_HOURS ago. A first
 * deployment over a stingy bucket is exactly this, and nothing is at risk yet: nobody can be
 * using a certificate the user never had.
 */
export const awaitingCatchUp = (report: RunReport, now: Date) => {
  const chain = report.catchUp;
  const waiting =
    chain?.next === 'catch-up' &&
    now.getTime() - Date.parse(chain.since) < NO_CERTIFICATE_GRACE_HOURS * 3_600_000;
  return (row: UserReport): boolean =>
    waiting && row.action === 'deferred' && row.certificate === 'none';
};

/**
 * Days left on the user's certificate: from its expiry when known; 0 for a failed or deferred
 * user known to hold none (as urgent as an expired one), unless the catch-up chain will reach
 * it (`awaitingCatchUp`); undefined when the run could not tell (e.g. a run stopped before
 * reading anything), which must not read as "expires now".
 */
const daysLeft = (
  row: UserReport,
  now: Date,
  waits: (row: UserReport) => boolean,
): number | undefined => {
  if (row.notAfter) return Math.max(0, (Date.parse(row.notAfter) - now.getTime()) / DAY_MS);
  const stuck = row.action === 'failed' || row.action === 'deferred';
  return stuck && row.certificate === 'none' && !waits(row) ? 0 : undefined;
};

export interface SignalOptions {
  /** The config's `rotation.criticalDays`: a deferred user this close to expiry is critical. */
  criticalDays: number;
  /**
   * The longest each user's renewal window can be (`longestRenewalWindowDays`): a deferred user
   * whose tagged expiry is further away than that and a day is not at risk (`farFromRenewal`).
   * Absent: every deferred user with a known expiry is counted at risk.
   */
  renewalWindowDays?: ((row: UserReport) => number) | undefined;
}

export const runMetrics = (report: RunReport, now: Date, options: SignalOptions): RunMetrics => {
  const waits = awaitingCatchUp(report, now);
  const days = report.users.map((u) => daysLeft(u, now, waits)).filter((d) => d !== undefined);
  const count = (is: (row: UserReport) => boolean): number => report.users.filter(is).length;
  const window = options.renewalWindowDays;
  const canWait = window ? farFromRenewal(window, now) : () => false;
  return {
    RotatedUsers: report.summary.rotated,
    ResumedUsers: report.summary.resumed,
    // A run stopped before any user row (e.g. discovery refused the credential) still counts.
    FailedUsers: Math.max(report.summary.failed, report.error ? 1 : 0),
    DeferredUsers: report.summary.deferred,
    DeferredCritical: count(
      (row) =>
        row.action === 'deferred' && (daysLeft(row, now, waits) ?? Infinity) < options.criticalDays,
    ),
    // Structural deferral (more users than a run's tokens, all far from renewal) is not a risk:
    // only users the next regular run may reach too late, or that wait past the catch-up chain.
    DeferredAtRisk: count((row) => row.action === 'deferred' && !canWait(row) && !waits(row)),
    UsersWithoutCertificate: count(
      (row) => (row.action === 'deferred' || row.action === 'failed') && row.certificate === 'none',
    ),
    Orphans: report.users.reduce((n, row) => n + (row.newOrphans?.length ?? 0), 0),
    StandingOrphans: report.summary.orphans,
    CertificateLimitReached: count(
      (row) => row.action === 'failed' && row.errorCode === CERTIFICATE_LIMIT_CODE,
    ),
    DriftRepaired: count((row) => row.drift?.some((f) => f.repaired) === true),
    StaleConsumers: count((row) => row.consumers === 'stale'),
    // Only where a check ran: a deployment without verify.uri pays for no such metric.
    VerifyBypassed: report.users.some((row) => row.verify)
      ? count((row) => row.verify?.outcome === 'bypassed')
      : undefined,
    MinDaysToExpiry: days.length > 0 ? Math.min(...days) : undefined,
    AtlasCredentialDaysToExpiry: report.credential?.daysToExpiry,
    CatchUpRuns: report.trigger === 'catch-up' ? 1 : 0,
    CatchUpPending: report.catchUp?.next === 'catch-up' ? 1 : 0,
    RunCompleted: 1,
    RunNotStarted: 0,
  };
};

const identity = (report: RunReport, row: UserReport) => ({
  runId: report.runId,
  projectId: row.projectId,
  username: row.username,
  secretName: row.secretName,
  secretArn: row.secretArn,
  // Absent without replicas: JSON drops undefined, so an event stays as it was.
  replicaArns: row.replicaArns,
  // The login check's outcome, with verify.uri: a bypass says so here too.
  verify: row.verify,
  serialNumber: row.serialNumber,
  notAfter: row.notAfter,
});

export const runEvents = (report: RunReport, now: Date): RotatorEvent[] =>
  report.dryRun
    ? []
    : report.users.flatMap((row): RotatorEvent[] => {
        if (row.action === 'rotated' || row.action === 'resumed') {
          return [{ detailType: 'Atlas X509 Certificate Rotated', detail: identity(report, row) }];
        }
        const events: RotatorEvent[] = [];
        if (row.action === 'failed') {
          // An event stands alone: a row the run's stop failed carries the run's error in full.
          const stop = row.reason === STOPPED_REASON ? report.error : undefined;
          events.push({
            detailType: 'Atlas X509 Rotation Failed',
            detail: {
              ...identity(report, row),
              errorCode: row.errorCode,
              reason: stop ? `run stopped: ${stop.message}` : row.reason,
              remedy: stop ? stop.remedy : row.remedy,
            },
          });
        }
        const days = row.notAfter ? (Date.parse(row.notAfter) - now.getTime()) / DAY_MS : undefined;
        if (days !== undefined && days < APPROACHING_EXPIRY_DAYS) {
          events.push({
            detailType: 'Atlas X509 Certificate Approaching Expiry',
            detail: { ...identity(report, row), daysToExpiry: Math.floor(days * 10) / 10 },
          });
        }
        return events;
      });

/** Adds the run's metrics to a Powertools Metrics instance (the caller flushes). */
export const addRunMetrics = (
  metrics: Metrics,
  report: RunReport,
  now: Date,
  options: SignalOptions,
): void => {
  if (report.dryRun) return;
  if (report.notRun) {
    // A catch-up tick with nothing to do is not a run; one the run lock refused says so.
    if (report.lockedOut) metrics.addMetric('RunNotStarted', MetricUnit.Count, 1);
    return;
  }
  const m = runMetrics(report, now, options);
  metrics.addMetric('RotatedUsers', MetricUnit.Count, m.RotatedUsers);
  metrics.addMetric('ResumedUsers', MetricUnit.Count, m.ResumedUsers);
  metrics.addMetric('FailedUsers', MetricUnit.Count, m.FailedUsers);
  metrics.addMetric('DeferredUsers', MetricUnit.Count, m.DeferredUsers);
  metrics.addMetric('DeferredCritical', MetricUnit.Count, m.DeferredCritical);
  metrics.addMetric('DeferredAtRisk', MetricUnit.Count, m.DeferredAtRisk);
  metrics.addMetric('UsersWithoutCertificate', MetricUnit.Count, m.UsersWithoutCertificate);
  metrics.addMetric('Orphans', MetricUnit.Count, m.Orphans);
  metrics.addMetric('StandingOrphans', MetricUnit.Count, m.StandingOrphans);
  metrics.addMetric('CertificateLimitReached', MetricUnit.Count, m.CertificateLimitReached);
  metrics.addMetric('DriftRepaired', MetricUnit.Count, m.DriftRepaired);
  metrics.addMetric('StaleConsumers', MetricUnit.Count, m.StaleConsumers);
  if (m.VerifyBypassed !== undefined) {
    metrics.addMetric('VerifyBypassed', MetricUnit.Count, m.VerifyBypassed);
  }
  if (m.MinDaysToExpiry !== undefined) {
    metrics.addMetric(
      'MinDaysToExpiry',
      MetricUnit.Count,
      Math.floor(m.MinDaysToExpiry * 100) / 100,
    );
  }
  if (m.AtlasCredentialDaysToExpiry !== undefined) {
    metrics.addMetric(
      'AtlasCredentialDaysToExpiry',
      MetricUnit.Count,
      m.AtlasCredentialDaysToExpiry,
    );
  }
  metrics.addMetric('RunCompleted', MetricUnit.Count, m.RunCompleted);
  metrics.addMetric('CatchUpRuns', MetricUnit.Count, m.CatchUpRuns);
  metrics.addMetric('CatchUpPending', MetricUnit.Count, m.CatchUpPending);
  metrics.addMetric('RunNotStarted', MetricUnit.Count, m.RunNotStarted);
};
