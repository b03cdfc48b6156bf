import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RawConfig } from '../functions/domain/config/schema.js';
import { suppressRotatorFunctionGuardRules } from './guard.js';
import { handlerCode } from './handler-asset.js';
import type { HandlerName } from './handlers.js';
import { acknowledge } from './nag.js';

export interface RotatorFunctionProps {
  /** Which prebuilt handler runs (`dist/assets/<handler>/index.mjs`, exporting `handler`). */
  readonly handler: HandlerName;
  readonly description: string;
  /** The config written beside the bundled handler as `rotation.config.json`. */
  readonly config: RawConfig;
  /** What the function may do besides writing its own logs. */
  readonly statements: iam.PolicyStatement[];
  /**
   * Why some of `statements` are on `*` (actions AWS cannot scope), for the cdk-nag
   * acknowledgement. Required when any of them is.
   */
  readonly unscopedReason?: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly logRetention: logs.RetentionDays;
  readonly environment?: Record<string, string>;
  readonly vpc?: ec2.IVpc | undefined;
  readonly vpcSubnets?: ec2.SubnetSelection | undefined;
  readonly securityGroups?: ec2.ISecurityGroup[] | undefined;
  /** The Lambda runtime (runtime.ts checks it against the ones the bundles are tested on). */
  readonly runtime: lambda.Runtime;
}

/**
 * One of the rotator's Lambda functions: a prebuilt ESM handler with its validated config
 * beside it, its own log group, and a role that holds exactly the
 * given statements plus writing to that log group (no AWSLambdaBasicExecutionRole, whose
 * `logs:*` reaches every log group).
 */
export class RotatorFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RotatorFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      // Disable audit records and run reports outlive the stack, for their retention period.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const statements = [
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        // The log group ARN ends in `:*`, which covers its streams and nothing else.
        resources: [this.logGroup.logGroupArn],
      }),
      ...props.statements,
    ];
    if (props.vpc) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'ManageVpcNetworkInterfaces',
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
      // Inline in the role itself, so the permissions exist before the function is created
      // (Lambda checks the VPC permissions at creation).
      inlinePolicies: { Function: new iam.PolicyDocument({ statements }) },
    });
    const unscoped = [
      props.unscopedReason,
      props.vpc
        ? 'Lambda creates and deletes the VPC network interfaces of this function with its role; these ec2 actions do not support resource-level scoping (the same set as AWSLambdaVPCAccessExecutionRole).'
        : undefined,
    ].filter((reason) => reason !== undefined);
    if (unscoped.length > 0) {
      acknowledge(this.role, 'AwsSolutions-IAM5[Resource::*]', unscoped.join(' '));
    }

    this.function = new lambda.Function(this, 'Function', {
      code: handlerCode(props.handler, props.config),
      handler: 'index.handler',
      description: props.description,
      runtime: props.runtime,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        // Minified code: stack traces are mapped back to the TypeScript sources.
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      vpc: props.vpc,
      vpcSubnets: props.vpc ? props.vpcSubnets : undefined,
      securityGroups: props.vpc ? props.securityGroups : undefined,
    });
    suppressRotatorFunctionGuardRules(this);
  }
}
