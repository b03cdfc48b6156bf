import { CfnOutput, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * The stack outputs an operator uses (docs/deploy.md), emitted by the construct itself so that
 * an adopter's stack has them as this repository's does (#24.2, D2). They are children of the
 * stack, so their names are exactly `<outputPrefix><Id>`, stable across versions.
 */
export interface RotationHandles {
  readonly credentialsSecretArn: string;
  readonly credentialsSecretCreated: boolean;
  readonly rotateFunctionName: string;
  readonly disableFunctionName: string | undefined;
  readonly leaseTableName: string;
  readonly keyArn: string;
  readonly alarmTopicArn: string;
  readonly dashboardName: string;
  readonly failureQueueUrl: string;
  readonly egressIp: string | undefined;
  readonly credentialsRotationRoleArn: string | undefined;
}

/** Logical ids are alphanumeric; a prefix keeps two rotations in one stack apart. */
export const checkOutputPrefix = (prefix: string): string => {
  if (!/^[A-Za-z0-9]*$/.test(prefix)) {
    throw new Error(`outputPrefix "${prefix}": use letters and digits only (an output name)`);
  }
  return prefix;
};

export const rotationOutputs = (scope: IConstruct, prefix: string, h: RotationHandles): void => {
  const stack = Stack.of(scope);
  const outputs: [string, string | undefined, string | undefined][] = [
    [
      'CredentialsSecretArn',
      h.credentialsSecretArn,
      h.credentialsSecretCreated
        ? 'Put the Atlas credential here (docs/deploy.md)'
        : 'The Atlas credential (imported)',
    ],
    [
      'RotateFunctionName',
      h.rotateFunctionName,
      'aws lambda invoke --function-name <this> --payload \'{"dryRun":true}\' ...',
    ],
    [
      'DisableFunctionName',
      h.disableFunctionName,
      'The guarded manual disable operation (never scheduled)',
    ],
    ['LeaseTableName', h.leaseTableName, 'The per-user leases (the config file names it)'],
    [
      'CertificateSecretsKeyArn',
      h.keyArn,
      'Consumers need kms:Decrypt on this key (through Secrets Manager)',
    ],
    [
      'AlarmTopicArn',
      h.alarmTopicArn,
      'Subscribe to be notified: aws sns subscribe --topic-arn <this> ...',
    ],
    ['DashboardName', h.dashboardName, undefined],
    ['FailureQueueUrl', h.failureQueueUrl, 'Failed schedule deliveries and async invocations'],
    [
      'EgressIp',
      h.egressIp,
      'The Elastic IP the functions reach Atlas from: add it to the Atlas API access list',
    ],
    [
      'CredentialsRotationRoleArn',
      h.credentialsRotationRoleArn,
      'Secrets Manager rotates the credentials secret with this role (managed rotation)',
    ],
  ];
  for (const [id, value, description] of outputs) {
    if (value === undefined) continue;
    const name = `${prefix}${id}`;
    if (stack.node.tryFindChild(name)) {
      throw new Error(
        `${scope.node.path}: stack ${stack.stackName} already has an output ${name} (another AtlasX509Rotation?): give each rotation its own outputPrefix, or outputs: false`,
      );
    }
    new CfnOutput(stack, name, { value, ...(description ? { description } : {}) });
  }
};
