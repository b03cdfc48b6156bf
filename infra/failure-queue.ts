import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { suppressGuardRule } from './guard.js';
import { acknowledge } from './nag.js';

/** Where failed schedule deliveries and failed asynchronous rotate invocations land. */
export const failureQueue = (scope: Construct): sqs.Queue => {
  const queue = new sqs.Queue(scope, 'FailureQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  const isTheDeadLetterQueue =
    'This queue is itself the dead-letter queue: of the schedule target (failed deliveries) and the on-failure destination of the rotate function. Nothing consumes it automatically; its depth is alarmed on.';
  acknowledge(queue, 'AwsSolutions-SQS3', isTheDeadLetterQueue);
  suppressGuardRule(
    queue,
    'sqs_dlq_check',
    `${isTheDeadLetterQueue} A RedrivePolicy would move a message an operator has viewed a few times into yet another queue; a RedriveAllowPolicy would declare it the dead-letter queue of SQS queues, and no SQS queue redrives into it.`,
  );
  return queue;
};
