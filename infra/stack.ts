import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { AtlasX509Rotation, type AtlasX509RotationProps } from './construct.js';

export interface AtlasX509RotatorStackProps extends StackProps, AtlasX509RotationProps {
  /**
   * The complete ARN of `credentialRotation`'s admin secret, imported into this stack (what
   * `-c credentialRotation=<ARN>` gives).
   * @default - `credentialRotation.adminSecret`, if any
   */
  readonly credentialRotationAdminSecretArn?: string;
}

/** This repository's deployment: the construct, plus the outputs an operator needs. */
export class AtlasX509RotatorStack extends Stack {
  readonly rotation: AtlasX509Rotation;

  constructor(scope: Construct, id: string, props: AtlasX509RotatorStackProps) {
    super(scope, id, {
      description:
        'atlas-x509-rotator: rotates MongoDB Atlas X.509 certificates into Secrets Manager',
      ...props,
    });
    const { credentialRotationAdminSecretArn: adminArn, ...rotationProps } = props;
    const rotation = new AtlasX509Rotation(this, 'Rotation', {
      ...rotationProps,
      ...(adminArn
        ? {
            credentialRotation: {
              ...props.credentialRotation,
              adminSecret: Secret.fromSecretCompleteArn(this, 'CredentialRotationAdmin', adminArn),
            },
          }
        : {}),
    });
    this.rotation = rotation;

    new CfnOutput(this, 'RotateFunctionName', {
      description: 'aws lambda invoke --function-name <this> --payload \'{"dryRun":true}\' ...',
      value: rotation.rotateFunction.functionName,
    });
    if (rotation.disableFunction) {
      new CfnOutput(this, 'DisableFunctionName', {
        description: 'The guarded manual disable operation (never scheduled)',
        value: rotation.disableFunction.functionName,
      });
    }
    new CfnOutput(this, 'CredentialsSecretArn', {
      description: rotation.createdCredentialsSecretName
        ? 'Put the Atlas credential here (docs/deploy.md)'
        : 'The Atlas credential (imported)',
      value: rotation.credentialsSecret.secretArn,
    });
    if (rotation.credentialsRotation) {
      new CfnOutput(this, 'CredentialsRotationRoleArn', {
        description:
          'Secrets Manager rotates the credentials secret with this role (managed rotation)',
        value: rotation.credentialsRotation.role.roleArn,
      });
    }
    new CfnOutput(this, 'CertificateSecretsKeyArn', {
      description: 'Consumers need kms:Decrypt on this key (through Secrets Manager)',
      value: rotation.key.keyArn,
    });
    new CfnOutput(this, 'LeaseTableName', { value: rotation.leaseTable.tableName });
    new CfnOutput(this, 'FailureQueueUrl', { value: rotation.failureQueue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'Subscribe to be notified: aws sns subscribe --topic-arn <this> ...',
      value: rotation.alarmTopic.topicArn,
    });
    new CfnOutput(this, 'DashboardName', { value: rotation.dashboard.dashboardName });
    if (rotation.egressIp) {
      new CfnOutput(this, 'EgressIp', {
        description:
          'The Elastic IP the functions reach Atlas from: add it to the Atlas API access list',
        value: rotation.egressIp,
      });
    }
  }
}
