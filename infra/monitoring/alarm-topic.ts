import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { alarmsPublishStatement, grantsForAwsServicesOnlyStatement } from '../permissions.js';

/** The topic every alarm notifies: encrypted under its own key, SSL only. */
export const alarmTopic = (scope: Construct, alarmEmail: string | undefined): sns.Topic => {
  const key = new kms.Key(scope, 'AlarmTopicKey', {
    description: 'atlas-x509-rotator alarm topic',
    enableKeyRotation: true,
    // Only in-flight notifications depend on it.
    removalPolicy: RemovalPolicy.DESTROY,
    pendingWindow: Duration.days(7),
  });
  key.addToResourcePolicy(alarmsPublishStatement());
  key.addToResourcePolicy(grantsForAwsServicesOnlyStatement());
  const topic = new sns.Topic(scope, 'AlarmTopic', {
    displayName: 'Atlas X.509 rotation alarms',
    masterKey: key,
    enforceSSL: true,
  });
  if (alarmEmail) topic.addSubscription(new subscriptions.EmailSubscription(alarmEmail));
  return topic;
};
