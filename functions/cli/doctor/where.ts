import { callerIdentity, resolvedRegion } from '../../adapters/aws/account.js';
import { type AwsService, endpointOverride, origin } from '../../adapters/aws/endpoints.js';
import { runWideError } from '../../adapters/aws/run-wide.js';
import type { RotatorConfig } from '../../domain/config/types.js';
import { attempt, type CheckResult } from './findings.js';

/**
 * Where doctor looked: the AWS Region and account its calls went to, and every endpoint. A
 * wrong Region is the usual reason a check of the wrong place says "ok": name it first.
 */

export interface Endpoint {
  service: 'Atlas' | AwsService;
  /** Scheme, host and port: a URL's user, password, path and query are never printed. */
  url: string;
  /** Where it came from: the config, an AWS_ENDPOINT_URL* variable, or the SDK's default. */
  source: string;
}

export interface Whereabouts {
  region: string | undefined;
  account: string | undefined;
  endpoints: Endpoint[];
}

/** The SDK's default host for each service (the endpoint rules' standard pattern). */
const HOSTS: Record<AwsService, string> = {
  'Secrets Manager': 'secretsmanager',
  DynamoDB: 'dynamodb',
  EventBridge: 'events',
  STS: 'sts',
  KMS: 'kms',
};

const awsEndpoint = (service: AwsService, region: string | undefined, env: NodeJS.ProcessEnv) => {
  const override = endpointOverride(service, env);
  if (override) return { service, url: override.url, source: override.variable };
  const suffix = region?.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  const url = `https://${HOSTS[service]}.${region ?? '<no region>'}.${suffix}`;
  return { service, url, source: 'AWS default' };
};

export const whereabouts = async (
  config: RotatorConfig,
  env: NodeJS.ProcessEnv,
  usesKms: boolean,
): Promise<{ where: Whereabouts; results: CheckResult[] }> => {
  const region = await resolvedRegion();
  const services: AwsService[] = ['Secrets Manager', 'DynamoDB', 'EventBridge', 'STS'];
  if (usesKms) services.push('KMS');
  const where: Whereabouts = {
    region,
    account: undefined,
    endpoints: [
      { service: 'Atlas', url: origin(config.atlas.baseUrl), source: 'config atlas.baseUrl' },
      ...services.map((s) => awsEndpoint(s, region, env)),
    ],
  };
  const regionSource = env.AWS_REGION?.trim() ? 'AWS_REGION' : 'the AWS profile';
  const results: CheckResult[] = [
    region
      ? {
          name: 'AWS Region',
          status: 'ok',
          detail: `${region} (from ${regionSource}): the lease table, secrets and key are looked up there`,
        }
      : {
          name: 'AWS Region',
          status: 'fail',
          detail: 'no AWS Region: every AWS call of a run would fail',
          remedy: 'Set AWS_REGION to the Region the stack is deployed in (e.g. us-east-1).',
          scope: 'run',
          code: 'AWS_REGION_MISSING',
        },
  ];
  // The account is for the reader; a run needs no STS call, so a refusal here is a warning,
  // unless it is one every AWS call of a run would meet (no credentials, an unreachable host).
  results.push(
    await attempt(
      'AWS account',
      async () => {
        const { account, arn } = await callerIdentity();
        where.account = account;
        return { status: 'ok', detail: `${account}${arn ? ` (caller ${arn})` : ''}` };
      },
      (err) => {
        const shared = runWideError(err, { service: 'STS', action: 'GetCallerIdentity', env });
        return {
          name: 'AWS account',
          status: shared?.code.startsWith('AWS_CREDENTIALS') ? 'fail' : 'warn',
          detail: `unknown: STS GetCallerIdentity failed (${shared ? shared.message : (err as Error).name})`,
          remedy:
            shared?.remedy ??
            'Only names the account: runs need no STS call. Check AWS_ENDPOINT_URL_STS or the network path to STS.',
          ...(shared ? { code: shared.code, scope: 'run' } : {}),
        };
      },
    ),
  );
  results.push({
    name: 'endpoints',
    status: 'ok',
    detail: where.endpoints.map((e) => `${e.service} ${e.url} (${e.source})`).join('; '),
  });
  return { where, results };
};
