import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { z } from 'zod';
import { ConfigError, formatZodIssues } from '../functions/domain/config/errors.js';
import { parseConfig } from '../functions/domain/config/resolve.js';
import type { RawConfig } from '../functions/domain/config/schema.js';
import type { RotatorConfig } from '../functions/domain/config/types.js';
import { type DetailType, EVENT_SOURCE } from '../functions/domain/names.js';
import { RotatorFunction } from './rotator-function.js';

/**
 * ECS services to redeploy when a certificate they read is promoted (`redeployEcsServices`):
 * ECS injects a secret into a task only when the task starts.
 */
export interface EcsRedeployTarget {
  /** An Atlas project of the rotation config. */
  readonly projectId: string;
  /**
   * One user of that project.
   * @default - every user of the project
   */
  readonly username?: string;
  /**
   * Long-format service ARNs (`arn:aws:ecs:<region>:<account>:service/<cluster>/<service>`),
   * in this stack's account; any Region. The function may `ecs:UpdateService` exactly these.
   */
  readonly serviceArns: readonly string[];
}

const SOURCE = 'the redeployEcsServices property';

/** The prop's shape, for JavaScript apps that no compiler checks: unknown keys are refused. */
const targetsSchema = z.array(
  z.strictObject({
    projectId: z.string(),
    username: z.string().optional(),
    serviceArns: z.array(z.string()),
  }),
);
const ROTATED: DetailType = 'Atlas X509 Certificate Rotated';
const SERVICE_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:(\d{12}):service\/[^/]+\/[^/]+$/;

/** Refuses projects and users the config does not rotate, and ARNs the handler could not use. */
export const checkEcsRedeploy = (
  redeploy: readonly EcsRedeployTarget[],
  config: RotatorConfig,
  account: string,
): void => {
  const shape = targetsSchema.safeParse(redeploy);
  if (!shape.success) {
    throw new ConfigError(
      formatZodIssues(shape.error).map(
        (line) => `redeployEcsServices${line.replace(/^\(root\)/, '')}`,
      ),
      SOURCE,
    );
  }
  const problems: string[] = [];
  redeploy.forEach((target, i) => {
    const at = `redeployEcsServices[${i}]`;
    const project = config.projects.find((p) => p.projectId === target.projectId);
    if (!project) {
      problems.push(`${at}.projectId: ${target.projectId} is not a project of the rotation config`);
    } else if (
      target.username !== undefined &&
      !project.discover &&
      !project.users.some((u) => u.username === target.username)
    ) {
      problems.push(`${at}.username: ${target.username} is not a user of ${target.projectId}`);
    }
    if (target.serviceArns.length === 0) problems.push(`${at}.serviceArns: names no service`);
    target.serviceArns.forEach((arn, j) => {
      // A token (a service of this app) resolves at deploy; the handler checks its shape then.
      if (Token.isUnresolved(arn)) return;
      const match = SERVICE_ARN.exec(arn);
      if (!match) {
        problems.push(
          `${at}.serviceArns[${j}]: not a long-format ECS service ARN (arn:aws:ecs:<region>:<account>:service/<cluster>/<service>)`,
        );
      } else if (!Token.isUnresolved(account) && match[1] !== account) {
        // ECS has no resource policies: another account's service needs that account's role.
        problems.push(`${at}.serviceArns[${j}]: in account ${match[1]}, not this stack's`);
      }
    });
  });
  if (problems.length > 0) throw new ConfigError(problems, SOURCE);
};

/**
 * One rule per service and project: an event names one project, so a service gets exactly one
 * invocation per promotion however many targets name it. A project-wide target covers all its
 * users; otherwise the rule lists the users.
 */
export const redeployRules = (
  redeploy: readonly EcsRedeployTarget[],
): { service: string; projectId: string; usernames: string[] | undefined }[] => {
  const byKey = new Map<string, { service: string; projectId: string; usernames?: Set<string> }>();
  for (const target of redeploy) {
    for (const service of target.serviceArns) {
      const key = JSON.stringify([service, target.projectId]);
      const rule = byKey.get(key) ?? { service, projectId: target.projectId, usernames: new Set() };
      if (target.username === undefined) rule.usernames = undefined;
      else rule.usernames?.add(target.username);
      byKey.set(key, rule);
    }
  }
  return [...byKey.values()].map((r) => ({
    service: r.service,
    projectId: r.projectId,
    usernames: r.usernames ? [...r.usernames] : undefined,
  }));
};

export interface EcsRedeployProps {
  readonly redeploy: readonly EcsRedeployTarget[];
  /** Only this rotator's secrets: another rotator in the account may rotate the same project. */
  readonly secretNamePrefix: string;
  readonly config: RawConfig;
  readonly logRetention: logs.RetentionDays;
  readonly runtime: lambda.Runtime;
  /** Invocations that failed after Lambda's retries land here (alarmed on). */
  readonly failureQueue: sqs.IQueue;
}

/**
 * Redeploys the named ECS services on the rotator's own `Atlas X509 Certificate Rotated` event:
 * EventBridge rules on the default bus invoke a small function asynchronously, so a redeploy
 * that fails (retried twice by Lambda, then sent to the failure queue) never fails a rotation.
 */
export class EcsRedeploy extends Construct {
  readonly function: lambda.IFunction;
  readonly rules: events.Rule[];

  constructor(scope: Construct, id: string, props: EcsRedeployProps) {
    super(scope, id);
    const services = [...new Set(props.redeploy.flatMap((t) => t.serviceArns))];
    const fn = new RotatorFunction(this, 'Function', {
      handler: 'ecs-redeploy',
      description:
        'atlas-x509-rotator: starts a new deployment of the ECS services that read a promoted certificate',
      // Unused by this handler; the shared packaging ships it beside every handler.
      config: props.config,
      timeout: Duration.seconds(30),
      memorySize: 256,
      runtime: props.runtime,
      logRetention: props.logRetention,
      statements: [
        new iam.PolicyStatement({
          sid: 'RedeployNamedServices',
          // DescribeServices: a service already redeployed since the promotion is left alone.
          actions: ['ecs:UpdateService', 'ecs:DescribeServices'],
          resources: services,
        }),
      ],
    });
    fn.function.configureAsyncInvoke({
      // Safe to retry: the handler starts no second deployment for one promotion.
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      onFailure: new destinations.SqsDestination(props.failureQueue),
    });
    this.function = fn.function;
    this.rules = redeployRules(props.redeploy).map(
      ({ service, projectId, usernames }, i) =>
        new events.Rule(this, `Rule${i}`, {
          description: `atlas-x509-rotator: redeploys an ECS service on a certificate promotion in ${projectId}`,
          eventPattern: {
            source: [EVENT_SOURCE],
            detailType: [ROTATED],
            detail: {
              projectId: [projectId],
              secretName: [{ prefix: props.secretNamePrefix }],
              ...(usernames ? { username: usernames } : {}),
            },
          },
          targets: [
            new targets.LambdaFunction(fn.function, {
              event: events.RuleTargetInput.fromObject({
                service,
                projectId: events.EventField.fromPath('$.detail.projectId'),
                username: events.EventField.fromPath('$.detail.username'),
                serialNumber: events.EventField.fromPath('$.detail.serialNumber'),
                promotedAt: events.EventField.time,
                eventId: events.EventField.eventId,
              }),
              // Invocations EventBridge could not deliver (throttled, function gone).
              deadLetterQueue: props.failureQueue,
              retryAttempts: 8,
              maxEventAge: Duration.hours(1),
            }),
          ],
        }),
    );
  }
}

/**
 * The construct's `redeployEcsServices`: checked against the shipped config and the stack's
 * account, then an `EcsRedeploy`; nothing without services.
 */
export const redeployOnPromotion = (
  scope: Construct,
  redeploy: readonly EcsRedeployTarget[] | undefined,
  props: Omit<EcsRedeployProps, 'redeploy'>,
): EcsRedeploy | undefined => {
  if (!redeploy || redeploy.length === 0) return undefined;
  checkEcsRedeploy(redeploy, parseConfig(props.config), Stack.of(scope).account);
  return new EcsRedeploy(scope, 'EcsRedeploy', { ...props, redeploy });
};
