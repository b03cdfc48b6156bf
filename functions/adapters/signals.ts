import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { RotatorEvent } from '../domain/events.js';
import type { RunMetrics } from '../domain/names.js';
import { DAY_MS } from '../domain/renewal.js';
import { type RunReport, STOPPED_REASON, type UserReport } from '../domain/report.js';

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
 * Days left on the user's certificate: from its expiry when known; 0 for a failed or deferred
 * user known to hold none (as urgent as an expired one); undefined when the run could not
 * tell (e.g. a run stopped before reading anything), which must not read as "expires now".
 */
const daysLeft = (row: UserReport, now: Date): number | undefined => {
  if (row.notAfter) return Math.max(0, (Date.parse(row.notAfter) - now.getTime()) / DAY_MS);
  const stuck = row.action === 'failed' || row.action === 'deferred';
  return stuck && row.certificate === 'none' ? 0 : undefined;
};

export interface SignalOptions {
  /** The config's `rotation.criticalDays`: a deferred user this close to expiry is critical. */
  criticalDays: number;
}

export const runMetrics = (report: RunReport, now: Date, options: SignalOptions): RunMetrics => {
  const days = report.users.map((u) => daysLeft(u, now)).filter((d) => d !== undefined);
  const count = (is: (row: UserReport) => boolean): number => report.users.filter(is).length;
  return {
    RotatedUsers: report.summary.rotated,
    ResumedUsers: report.summary.resumed,
    // A run stopped before any user row (e.g. discovery refused the credential) still counts.
    FailedUsers: Math.max(report.summary.failed, report.error ? 1 : 0),
    DeferredUsers: report.summary.deferred,
    DeferredCritical: count(
      (row) => row.action === 'deferred' && (daysLeft(row, now) ?? Infinity) < options.criticalDays,
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
  const m = runMetrics(report, now, options);
  metrics.addMetric('RotatedUsers', MetricUnit.Count, m.RotatedUsers);
  metrics.addMetric('ResumedUsers', MetricUnit.Count, m.ResumedUsers);
  metrics.addMetric('FailedUsers', MetricUnit.Count, m.FailedUsers);
  metrics.addMetric('DeferredUsers', MetricUnit.Count, m.DeferredUsers);
  metrics.addMetric('DeferredCritical', MetricUnit.Count, m.DeferredCritical);
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
};
