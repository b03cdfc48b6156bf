import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledge } from './nag.js';

/** Where failed schedule deliveries and failed asynchronous rotate invocations land. */
export const failureQueue = (scope: Construct): sqs.Queue => {
  const queue = new sqs.Queue(scope, 'FailureQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  acknowledge(
    queue,
    'AwsSolutions-SQS3',
    'This queue is itself the dead-letter queue: of the schedule target (failed deliveries) and the on-failure destination of the rotate function. Nothing consumes it automatically; its depth is alarmed on.',
  );
  return queue;
};
