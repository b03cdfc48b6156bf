/**
 * Starts a new deployment of one ECS service after the rotator promoted a certificate its tasks
 * read: ECS injects secrets only when a task starts, so running tasks keep the old certificate
 * until they are replaced. Invoked asynchronously by an EventBridge rule on the rotator's
 * `Atlas X509 Certificate Rotated` event (infra/ecs-redeploy.ts), one invocation per service and
 * promotion, so a redeploy that fails never touches the rotation that announced it.
 *
 * At most one deployment per promotion: a service whose primary deployment started at or after
 * the promotion is left alone (a retried invocation, an event delivered twice, or a deployment
 * someone else started since, whose tasks read the new certificate anyway).
 */
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';

/** What the rule's input transformer hands over: the service, and the event's facts. */
export interface RedeployRequest {
  /** Long-format service ARN: `arn:aws:ecs:<region>:<account>:service/<cluster>/<service>`. */
  service: string;
  projectId: string;
  username: string;
  serialNumber: string;
  /** The event's `time`: when the certificate was promoted (to the second). */
  promotedAt: string;
  eventId: string;
}

export type RedeployOutcome =
  | { outcome: 'redeployed'; deploymentId: string | undefined }
  | { outcome: 'already-redeployed'; deploymentId: string | undefined; startedAt: string };

export class RedeployRequestError extends Error {
  override readonly name = 'RedeployRequestError';
}

const SERVICE_ARN = /^arn:(aws[a-z-]*):ecs:([a-z0-9-]+):(\d{12}):service\/([^/]+)\/([^/]+)$/;

/** The service's Region and cluster ARN, from its long-format ARN. */
export const parseServiceArn = (arn: string): { region: string; cluster: string } => {
  const match = SERVICE_ARN.exec(arn);
  if (!match) {
    throw new RedeployRequestError(
      `not a long-format ECS service ARN (arn:aws:ecs:<region>:<account>:service/<cluster>/<service>): ${arn}`,
    );
  }
  const [, partition, region = '', account, cluster] = match;
  return { region, cluster: `arn:${partition}:ecs:${region}:${account}:cluster/${cluster}` };
};

const parseRequest = (event: unknown): RedeployRequest => {
  const fields = ['service', 'projectId', 'username', 'serialNumber', 'promotedAt', 'eventId'];
  const record = (typeof event === 'object' && event !== null ? event : {}) as Record<
    string,
    unknown
  >;
  const bad = fields.filter((f) => typeof record[f] !== 'string' || record[f] === '');
  if (bad.length > 0) throw new RedeployRequestError(`missing or empty: ${bad.join(', ')}`);
  if (Number.isNaN(Date.parse(record.promotedAt as string))) {
    throw new RedeployRequestError('promotedAt is not a date');
  }
  return record as unknown as RedeployRequest;
};

const clients = new Map<string, ECSClient>();
/** One client per Region: a service may run where a replica of its secret is. */
const ecsIn = (region: string): ECSClient => {
  let client = clients.get(region);
  if (!client) {
    client = new ECSClient({ region });
    clients.set(region, client);
  }
  return client;
};

export const redeploy = async (
  request: RedeployRequest,
  ecsFor: (region: string) => ECSClient = ecsIn,
): Promise<RedeployOutcome> => {
  const { region, cluster } = parseServiceArn(request.service);
  const ecs = ecsFor(region);
  const described = await ecs.send(
    new DescribeServicesCommand({ cluster, services: [request.service] }),
  );
  const service = described.services?.[0];
  if (!service) {
    const failure = described.failures?.[0];
    throw new Error(
      `service ${request.service}: ${failure?.reason ?? 'not found'}${failure?.detail ? ` (${failure.detail})` : ''}`,
    );
  }
  const primary = service.deployments?.find((d) => d.status === 'PRIMARY');
  // EventBridge's time has whole seconds: a deployment in the same second counts as after.
  const promoted = Math.floor(Date.parse(request.promotedAt) / 1000) * 1000;
  if (primary?.createdAt && primary.createdAt.getTime() >= promoted) {
    return {
      outcome: 'already-redeployed',
      deploymentId: primary.id,
      startedAt: primary.createdAt.toISOString(),
    };
  }
  const updated = await ecs.send(
    new UpdateServiceCommand({ cluster, service: request.service, forceNewDeployment: true }),
  );
  const started = updated.service?.deployments?.find((d) => d.status === 'PRIMARY');
  return { outcome: 'redeployed', deploymentId: started?.id };
};

/** Logs one line per invocation; throws on failure, so Lambda retries and then dead-letters. */
export const handler = async (event: unknown): Promise<RedeployOutcome> => {
  const request = parseRequest(event);
  const facts = {
    service: request.service,
    projectId: request.projectId,
    username: request.username,
    serialNumber: request.serialNumber,
    eventId: request.eventId,
  };
  try {
    const result = await redeploy(request);
    console.log(JSON.stringify({ level: 'INFO', message: 'ecs redeploy', ...facts, ...result }));
    return result;
  } catch (err) {
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    console.log(
      JSON.stringify({ level: 'ERROR', message: 'ecs redeploy failed', ...facts, error }),
    );
    throw err;
  }
};
