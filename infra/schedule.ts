import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledge, wildcardResourceFinding } from './nag.js';

const DEFAULT_SCHEDULE = 'cron(0 3 * * ? *)';

export interface RotationScheduleProps {
  readonly rotateFunction: lambda.IFunction;
  /** Receives the invocations Scheduler could not deliver. */
  readonly deadLetterQueue: sqs.IQueue;
  /** @default daily at 03:00 UTC */
  readonly schedule?: scheduler.ScheduleExpression | undefined;
  /** @default Duration.minutes(15); zero turns the window off */
  readonly scheduleWindow?: Duration | undefined;
  /** @default true */
  readonly scheduleEnabled?: boolean | undefined;
  /**
   * How often the catch-up schedule ticks; a tick runs only when the run before left users
   * deferred (`functions/domain/rotation/catch-up.ts`), else it ends after one read.
   * `Duration.minutes(0)` removes it. @default Duration.minutes(20)
   */
  readonly catchUpEvery?: Duration | undefined;
}

/** The two schedules: the regular one, and the catch-up one unless turned off. */
export interface RotationSchedules {
  readonly schedule: scheduler.Schedule;
  readonly catchUp: scheduler.Schedule | undefined;
}

/**
 * The EventBridge Scheduler schedules that invoke the rotate function, through their own role:
 * the regular one and the catch-up one.
 */
export const rotationSchedules = (
  scope: Construct,
  props: RotationScheduleProps,
): RotationSchedules => {
  const every = props.catchUpEvery ?? Duration.minutes(20);
  const minutes = every.toMinutes({ integral: false });
  if (minutes > 0 && minutes < 16) {
    throw new Error(
      `catchUpEvery (${minutes} min) must be 0 (no catch-up) or at least 16 minutes: longer than Lambda's 15-minute maximum, so a tick never starts while the run before it can still be at work.`,
    );
  }
  const role = new iam.Role(scope, 'SchedulerRole', {
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
    description: 'EventBridge Scheduler: invokes the atlas-x509-rotator rotate function',
  });
  acknowledge(
    role,
    wildcardResourceFinding(scope, `${props.rotateFunction.functionArn}:*`),
    'Added by the Scheduler Lambda target (grantInvoke): the function itself and its versions/aliases, nothing else.',
  );
  const window = props.scheduleWindow ?? Duration.minutes(15);
  const schedule = new scheduler.Schedule(scope, 'Schedule', {
    description: 'atlas-x509-rotator: rotates certificates that are due',
    schedule:
      props.schedule ?? scheduler.ScheduleExpression.expression(DEFAULT_SCHEDULE, TimeZone.ETC_UTC),
    timeWindow:
      window.toMinutes() > 0 ? scheduler.TimeWindow.flexible(window) : scheduler.TimeWindow.off(),
    enabled: props.scheduleEnabled ?? true,
    target: new schedulerTargets.LambdaInvoke(props.rotateFunction, {
      role,
      // The handler's schema accepts exactly this (functions/domain/request.ts).
      input: scheduler.ScheduleTargetInput.fromObject({
        scheduledTime: scheduler.ContextAttribute.scheduledTime,
      }),
      // Scheduler's defaults (185 attempts over 24 h) would pile up runs; tomorrow's run
      // is the real retry.
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      deadLetterQueue: props.deadLetterQueue,
    }),
  });
  // Longer than the function's 15-minute maximum, so ticks never pile up; the run lock keeps a
  // tick from overlapping a regular or a slow run anyway.
  const catchUp =
    minutes > 0
      ? new scheduler.Schedule(scope, 'CatchUpSchedule', {
          description: 'atlas-x509-rotator: continues a run that left users deferred',
          schedule: scheduler.ScheduleExpression.rate(every),
          timeWindow: scheduler.TimeWindow.off(),
          enabled: props.scheduleEnabled ?? true,
          target: new schedulerTargets.LambdaInvoke(props.rotateFunction, {
            role,
            input: scheduler.ScheduleTargetInput.fromObject({
              catchUp: true,
              scheduledTime: scheduler.ContextAttribute.scheduledTime,
            }),
            // The next tick is the retry.
            retryAttempts: 0,
            maxEventAge: Duration.minutes(15),
            deadLetterQueue: props.deadLetterQueue,
          }),
        })
      : undefined;
  return { schedule, catchUp };
};
