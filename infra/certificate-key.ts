import { ArnFormat, RemovalPolicy, type Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { grantsForAwsServicesOnlyStatement } from './permissions.js';

/** The certificate secrets' ARN pattern, `arn:…:secret:<secretNamePrefix>*`: IAM is scoped to it. */
export const certificateSecretsArnPattern = (stack: Stack, secretNamePrefix: string): string =>
  stack.formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${secretNamePrefix}*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });

/**
 * The customer managed key the certificate secrets are encrypted with, under the alias the
 * config's `defaults.kmsKeyId` gives: the key's ARN exists only after deployment, but the
 * config is written at synth, and the alias names the same key for the functions and the CLI.
 */
export const certificateKey = (
  scope: Construct,
  alias: string,
  secretNamePrefix: string,
): kms.Key => {
  const key = new kms.Key(scope, 'Key', {
    description: `Atlas X.509 certificate secrets (${secretNamePrefix}*) rotated by atlas-x509-rotator`,
    enableKeyRotation: true,
    alias,
    // Secrets encrypted with it outlive the stack (the function creates them, not
    // CloudFormation): deleting the key would make every one of them unreadable.
    removalPolicy: RemovalPolicy.RETAIN,
  });
  key.addToResourcePolicy(grantsForAwsServicesOnlyStatement());
  return key;
};
