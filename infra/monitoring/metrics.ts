import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  DEPLOYMENT_DIMENSION,
  METRICS_NAMESPACE,
  type MetricName,
  SERVICE_NAME,
} from '../../functions/domain/names.js';

/**
 * The metric factory alarms and dashboard share, so both read the very same series: the run
 * metrics of one deployment (`deployment`, the construct's namePrefix, as the rotate function's
 * environment names it; functions/domain/names.ts).
 */
export interface DeploymentMetrics {
  /** A metric the rotate function emits once per run; hourly unless told. */
  run(name: MetricName, statistic: string, period?: Duration): cloudwatch.Metric;
  /** A run metric per day, labelled: the dashboard's 90-day graphs. */
  daily(name: MetricName, statistic: string, label: string): cloudwatch.Metric;
  /**
   * 1 for a day whose worst run left users deferred at risk, and no fewer than the day before's
   * worst run; else 0. A catch-up after a large due day defers by design, but its count falls
   * day by day; a count that holds or grows means the runs no longer keep up. `DeferredAtRisk`,
   * not `DeferredUsers`: a project with more users than a run's tokens defers about as many users
   * far from renewal every day, which the next day's run reaches in time (issue #25.3). Daily,
   * whatever the schedule: the maximum is the full scheduled run, not a forced run over a few
   * users.
   */
  deferredNotShrinking(): cloudwatch.MathExpression;
}

export const deploymentMetrics = (deployment: string): DeploymentMetrics => {
  const run = (name: MetricName, statistic: string, period: Duration = Duration.hours(1)) =>
    new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: name,
      dimensionsMap: { service: SERVICE_NAME, [DEPLOYMENT_DIMENSION]: deployment },
      statistic,
      period,
    });
  return {
    run,
    daily: (name, statistic, label) => run(name, statistic, Duration.days(1)).with({ label }),
    deferredNotShrinking: () =>
      new cloudwatch.MathExpression({
        expression: 'IF(deferred > 0 AND DIFF(deferred) >= 0, 1, 0)',
        usingMetrics: {
          deferred: run('DeferredAtRisk', cloudwatch.Stats.MAXIMUM, Duration.days(1)),
        },
        period: Duration.days(1),
        label: 'deferred set at risk not shrinking',
      }),
  };
};

/** Days in a row the deferred set may fail to shrink before it alarms (within one more day). */
export const STAGNANT_DAYS = 3;

/** Failed invocations of a function (run-wide errors, rejected payloads, timeouts). */
export const functionErrors = (fn: lambda.IFunction, period: Duration): cloudwatch.Metric =>
  fn.metricErrors({ period, statistic: cloudwatch.Stats.SUM });

export const functionMaxDuration = (fn: lambda.IFunction, period: Duration): cloudwatch.Metric =>
  fn.metricDuration({ period, statistic: cloudwatch.Stats.MAXIMUM });

/** Messages waiting in a queue nothing drains: each one a failure to read. */
export const queuedMessages = (queue: sqs.IQueue, period: Duration): cloudwatch.Metric =>
  queue.metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM });
