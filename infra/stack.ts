import { Stack, type StackProps } from 'aws-cdk-lib';
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

/**
 * This repository's deployment: the construct in a stack of its own (the construct emits the
 * outputs an operator needs).
 */
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
  }
}
