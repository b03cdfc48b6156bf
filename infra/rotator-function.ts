import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RawConfig } from '../functions/domain/config.js';
import { acknowledge } from './nag.js';

/** The repository root: entries, package-lock.json and tsconfig.json are resolved from it. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The file name the handlers read beside themselves (`functions/bundled-config.ts`). */
export const SHIPPED_CONFIG_FILE = 'rotation.config.json';

/**
 * ESM bundles of CommonJS dependencies (undici, the AWS SDK) call `require` for Node
 * built-ins, which ESM lacks: without this banner they crash at load.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'node:module';const require = createRequire(import.meta.url);";

export interface RotatorFunctionProps {
  /** Handler file, relative to the repository root (it exports `handler`). */
  readonly entry: string;
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
}

/**
 * One of the rotator's Lambda functions: a locally bundled ESM handler (esbuild, no Docker)
 * with its validated config beside it, its own log group, and a role that holds exactly the
 * given statements plus writing to that log group (no AWSLambdaBasicExecutionRole, whose
 * `logs:*` reaches every log group).
 */
export class RotatorFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
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

    const configJson = `${JSON.stringify(props.config, null, 2)}\n`;
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
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
      bundling: {
        format: nodejs.OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        // Bundle the SDK: the version package-lock.json pins is the one that runs.
        bundleAwsSDK: true,
        minify: true,
        // Errors carry class names the logs and reports show.
        keepNames: true,
        sourceMap: true,
        // Maps without embedded sources: small, and enough to name file and line.
        sourcesContent: false,
        // esbuild's per-file size summary on every synth is noise; warnings still show.
        logLevel: nodejs.LogLevel.WARNING,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          // The handler reads the config beside itself (`new URL('./rotation.config.json',
          // import.meta.url)`). CDK also renders these commands for a Docker build, so they
          // must be plain commands: node writes the file from base64, immune to quoting.
          afterBundling: (_inputDir: string, outputDir: string) => [
            `node -e "require('fs').writeFileSync(process.argv[1], Buffer.from(process.argv[2], 'base64'))" "${join(outputDir, SHIPPED_CONFIG_FILE)}" ${Buffer.from(configJson).toString('base64')}`,
          ],
        },
      },
    });
  }
}
