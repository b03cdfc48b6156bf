import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';

/**
 * The per-user lease table that keeps overlapping runs off the same user, named by the config's
 * `locks.tableName`: the CLI run with the same file takes its leases here too.
 */
export const leaseTable = (scope: Construct, tableName: string): dynamodb.Table =>
  new dynamodb.Table(scope, 'Leases', {
    tableName,
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: 'ttl',
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    // Leases hold project ids, usernames and run ids, never key material: the AWS managed
    // key encrypts them with no key policy to keep in sync.
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    // Leases only matter while a run lives; nothing to keep once the rotator is gone.
    removalPolicy: RemovalPolicy.DESTROY,
  });
