import { randomBytes, randomUUID } from 'node:crypto';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RawConfig } from '../../functions/domain/config/schema.js';
import { EVENT_SOURCE } from '../../functions/domain/names.js';
import type { RedeployOutcome } from '../../functions/ecs-redeploy/handler.js';
import { newApp, synth } from '../infra/support.js';
import { importHandlerBundle } from '../support/bundles.js';
import { Harness, P1 } from '../support/harness.js';

/**
 * `redeployEcsServices` end to end, short of AWS itself: the rotator's own run promotes
 * certificates (Atlas simulator, moto_server) and publishes its events to moto's default bus,
 * where the synthesized rules' patterns route them (each rule to a queue of its own here, for
 * the Lambda target moto cannot invoke); the rule's input transformer, applied here, makes the
 * input of the shipped redeploy bundle, which redeploys through moto's ECS.
 */

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
type Handler = (event: unknown) => Promise<RedeployOutcome>;

let h: Harness;
let ecs: ECSClient;
beforeEach(async () => {
  // The shared setup points the SDK at moto for the services the rotator uses; ECS too here.
  vi.stubEnv('AWS_ENDPOINT_URL_ECS', process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? '');
  ecs = new ECSClient({});
  h = await Harness.start();
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await h.close();
});

const createServices = async (names: string[]): Promise<Record<string, string>> => {
  const cluster = `prod-${randomBytes(4).toString('hex')}`;
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: cluster,
      containerDefinitions: [{ name: 'app', image: 'app:1', memory: 128 }],
    }),
  );
  const arns: Record<string, string> = {};
  for (const name of names) {
    const created = await ecs.send(
      new CreateServiceCommand({
        cluster,
        serviceName: name,
        taskDefinition: cluster,
        desiredCount: 1,
      }),
    );
    arns[name] = String(created.service?.serviceArn);
  }
  return arns;
};

const deploymentOf = async (arn: string): Promise<string | undefined> => {
  const cluster = arn.replace(/:service\/([^/]+)\/.*$/, ':cluster/$1');
  const got = await ecs.send(new DescribeServicesCommand({ cluster, services: [arn] }));
  return got.services?.[0]?.deployments?.find((d) => d.status === 'PRIMARY')?.id;
};

interface Rule {
  pattern: unknown;
  transformer: { InputPathsMap: Record<string, string>; InputTemplate: string };
}

/** What EventBridge's input transformer makes of `event` (paths of plain fields only). */
const transform = (rule: Rule, event: Record<string, unknown>): unknown => {
  let text = rule.transformer.InputTemplate;
  for (const [name, path] of Object.entries(rule.transformer.InputPathsMap)) {
    const value = path
      .replace(/^\$\./, '')
      .split('.')
      .reduce<unknown>((at, key) => (at as Record<string, unknown>)?.[key], event);
    text = text.replaceAll(`<${name}>`, JSON.stringify(value));
  }
  return JSON.parse(text);
};

/** moto's SQS over its JSON protocol (the project has no SQS client; moto checks no signature). */
const sqs = async (action: string, body: object): Promise<Record<string, unknown>> => {
  const response = await fetch(process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? '', {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.0',
      'X-Amz-Target': `AmazonSQS.${action}`,
      Authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${REGION}/sqs/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`SQS ${action}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
};

const eventBridge = new EventBridgeClient({});

/** Puts `rule`'s pattern on moto's default bus, delivering to a queue; returns a reader of it. */
const routed = async (rule: Rule): Promise<() => Promise<Record<string, unknown>[]>> => {
  const name = `redeploy-${randomBytes(5).toString('hex')}`;
  const { QueueUrl } = await sqs('CreateQueue', { QueueName: name });
  await eventBridge.send(
    new PutRuleCommand({ Name: name, EventPattern: JSON.stringify(rule.pattern) }),
  );
  await eventBridge.send(
    new PutTargetsCommand({
      Rule: name,
      Targets: [{ Id: 'queue', Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}` }],
    }),
  );
  return async () => {
    const got = await sqs('ReceiveMessage', { QueueUrl, MaxNumberOfMessages: 10 });
    const messages = (got.Messages ?? []) as { Body: string; ReceiptHandle: string }[];
    for (const m of messages)
      await sqs('DeleteMessage', { QueueUrl, ReceiptHandle: m.ReceiptHandle });
    return messages.map((m) => JSON.parse(m.Body));
  };
};

describe('ECS services redeployed on the rotator’s promotion event', () => {
  it('gives each named service exactly one new deployment per promotion', async () => {
    h.sim.addUser(P1, 'app1');
    h.sim.addUser(P1, 'app2');
    await h.seedDue(P1, 'app1', 5);
    await h.seedDue(P1, 'app2', 5);
    const arns = await createServices(['orders', 'reports', 'unrelated']);
    const { orders = '', reports = '', unrelated = '' } = arns;
    const config: RawConfig = h.config({ projects: [{ projectId: P1, users: ['app1', 'app2'] }] });

    const { template } = synth(
      {
        env: { account: ACCOUNT, region: REGION },
        config: {
          defaults: { secretNamePrefix: h.prefix, kmsKeyId: 'alias/atlas-x509-rotator' },
          projects: [{ projectId: P1, users: ['app1', 'app2'] }],
        },
        redeployEcsServices: [
          { projectId: P1, username: 'app1', serviceArns: [orders] },
          { projectId: P1, username: 'app2', serviceArns: [reports] },
        ],
      },
      newApp(),
    );
    const rules: (Rule & { read?: () => Promise<Record<string, unknown>[]> })[] = Object.values(
      template.findResources('AWS::Events::Rule'),
    )
      .filter((r) => r.Properties.EventPattern?.source?.[0] === EVENT_SOURCE)
      .map((r) => ({
        pattern: r.Properties.EventPattern,
        transformer: r.Properties.Targets[0].InputTransformer,
      }));
    expect(rules).toHaveLength(2);
    for (const rule of rules) rule.read = await routed(rule);

    const { handler } = await importHandlerBundle<{ handler: Handler }>('ecs-redeploy');
    const before = {
      orders: await deploymentOf(orders),
      reports: await deploymentOf(reports),
      unrelated: await deploymentOf(unrelated),
    };
    const seen: Record<string, Set<string | undefined>> = {
      orders: new Set([before.orders]),
      reports: new Set([before.reports]),
    };

    /** Hands each event a rule routed to the function, twice (EventBridge is at least once). */
    const deliver = async () => {
      const outcomes: string[] = [];
      for (const rule of rules) {
        for (const event of (await rule.read?.()) ?? []) {
          const input = transform(rule, event) as { service: string; username: string };
          for (const _ of [1, 2]) {
            const result = await handler(input);
            outcomes.push(
              `${input.username} ${input.service === orders ? 'orders' : 'reports'} ${result.outcome}`,
            );
          }
        }
      }
      seen.orders?.add(await deploymentOf(orders));
      seen.reports?.add(await deploymentOf(reports));
      return outcomes.sort();
    };

    // Deployments the services had started in an earlier second than the promotion.
    await new Promise((r) => setTimeout(r, 1_100));
    const first = await h.run(config);
    expect(first.users.map((u) => u.action)).toEqual(['rotated', 'rotated']);
    expect(await deliver()).toEqual([
      'app1 orders already-redeployed',
      'app1 orders redeployed',
      'app2 reports already-redeployed',
      'app2 reports redeployed',
    ]);

    await new Promise((r) => setTimeout(r, 1_100));
    const second = await h.run(config, {
      force: true,
      only: [{ projectId: P1, username: 'app1' }],
    });
    expect(second.users.filter((u) => u.action === 'rotated').map((u) => u.username)).toEqual([
      'app1',
    ]);
    expect(await deliver()).toEqual(['app1 orders already-redeployed', 'app1 orders redeployed']);

    // Two promotions of app1: two new deployments of orders; one of reports; none elsewhere.
    expect(seen.orders?.size).toBe(3);
    expect(seen.reports?.size).toBe(2);
    expect(await deploymentOf(unrelated)).toBe(before.unrelated);
  }, 180_000);

  it('throws for a service it cannot redeploy, so Lambda retries and then dead-letters it', async () => {
    const { handler } = await importHandlerBundle<{ handler: Handler }>('ecs-redeploy');
    const request = {
      service: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/nowhere/gone`,
      projectId: P1,
      username: 'app1',
      serialNumber: '1',
      promotedAt: new Date().toISOString(),
      eventId: randomUUID(),
    };
    const printed: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => {
      printed.push(line);
    });
    try {
      await expect(handler(request)).rejects.toThrow();
      await expect(handler({ ...request, service: 'orders' })).rejects.toThrow(
        /not a long-format ECS service ARN/,
      );
      await expect(handler({ service: 'x' })).rejects.toThrow(/missing or empty: projectId/);
    } finally {
      vi.restoreAllMocks();
    }
    expect(JSON.parse(printed[0] ?? '{}')).toMatchObject({
      level: 'ERROR',
      message: 'ecs redeploy failed',
      service: request.service,
    });
  });
});
