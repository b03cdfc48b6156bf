import { z } from 'zod';
import { RotatorError } from '../../domain/errors.js';
import { type AwsService, endpointOverride, isLocalEndpoint } from './endpoints.js';

/**
 * AWS SDK failures that are the run's, not a user's: no region, no or rejected credentials, an
 * endpoint nothing answers on (or something that is not the service answers on), and a denied
 * ListSecrets. Every other call of the run would fail the same way, so each becomes one
 * run-scoped error that stops the run, with the SDK's own words and what to change. The one
 * place that decides it; the adapters ask here before mapping an error of their own.
 */

export type RunWideCode =
  | 'AWS_REGION_MISSING'
  | 'AWS_REGION_INVALID'
  | 'AWS_CREDENTIALS_MISSING'
  | 'AWS_CREDENTIALS_INVALID'
  | 'AWS_ENDPOINT_UNREACHABLE'
  | 'AWS_ENDPOINT_WRONG'
  | 'SECRETS_ACCESS_DENIED';

export class AwsRunWideError extends RotatorError {
  declare readonly code: RunWideCode;

  constructor(message: string, code: RunWideCode, remedy: string, cause?: unknown) {
    super(message, { code, remedy, scope: 'run', cause });
    this.name = 'AwsRunWideError';
  }
}

/**
 * Causes every SDK client of the process shares (same region, same credential chain): after
 * one, a call to another AWS service fails alike and need not be tried.
 */
export const sharedByEveryClient = (code: string): boolean =>
  code === 'AWS_REGION_MISSING' ||
  code === 'AWS_REGION_INVALID' ||
  code === 'AWS_CREDENTIALS_MISSING' ||
  code === 'AWS_CREDENTIALS_INVALID';

/** The fields of an SDK (or Node network) error this module reads. */
const sdkErrorSchema = z.object({
  name: z.string().catch(''),
  message: z.string().catch(''),
  code: z.string().optional().catch(undefined),
  syscall: z.string().optional().catch(undefined),
  // AggregateError: one per address tried (IPv4 and IPv6 of `localhost`).
  errors: z
    .array(
      z.object({ code: z.string().optional().catch(undefined), message: z.string().catch('') }),
    )
    .optional()
    .catch(undefined),
  $metadata: z
    .object({
      httpStatusCode: z.number().optional().catch(undefined),
      requestId: z.string().optional().catch(undefined),
    })
    .optional()
    .catch(undefined),
});
type SdkError = z.infer<typeof sdkErrorSchema>;

// What the AWS services answer when the signature's key, secret or session token is wrong.
const REJECTED_CREDENTIALS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'IncompleteSignatureException',
  'InvalidClientTokenId',
  'InvalidAccessKeyId',
  'ExpiredToken',
  'ExpiredTokenException',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'AuthFailure',
]);

// Node's errors for a connection that never opened: nothing listens, no such host, no route.
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);

export interface CallSite {
  service: AwsService;
  /** The API action, e.g. `ListSecrets`. */
  action: string;
  /** @default process.env (what the SDK reads) */
  env?: NodeJS.ProcessEnv;
}

/** The SDK's message, one line and bounded: it names hosts, regions and ARNs, never secrets. */
const sdkText = (e: SdkError): string => {
  const text = e.message || (e.errors ?? []).map((x) => x.message).join('; ') || e.name;
  const line = text.split('\n')[0]?.trim() ?? '';
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
};

const connectFailed = (e: SdkError): boolean => {
  const code = e.code ?? e.errors?.find((x) => x.code)?.code;
  if (code && UNREACHABLE.has(code)) return true;
  // The SDK's connectionTimeout, or the OS giving up on the connect itself.
  if (e.name === 'TimeoutError' && /did not establish a connection/.test(e.message)) return true;
  return code === 'ETIMEDOUT' && e.syscall === 'connect';
};

/**
 * An answer that did not come from the service: no AWS request id (every AWS response carries
 * one), a body the SDK could not read as the service's (`Unknown`, or a `SyntaxError` for HTML),
 * and not a 5xx or 429, which a proxy may give for a moment. Something else listens there.
 */
const notTheService = (e: SdkError): boolean => {
  const status = e.$metadata?.httpStatusCode;
  return (
    (e.name === 'Unknown' || e.name === 'UnknownError' || e.name === 'SyntaxError') &&
    status !== undefined &&
    status < 500 &&
    status !== 429 &&
    !e.$metadata?.requestId
  );
};

/**
 * The run-wide error `err` amounts to, or undefined when it is a failure of this call alone.
 * A run-scoped RotatorError passes through as it is, so callers can map twice safely.
 */
export const runWideError = (err: unknown, call: CallSite): RotatorError | undefined => {
  if (err instanceof RotatorError) return err.scope === 'run' ? err : undefined;
  const parsed = sdkErrorSchema.safeParse(err);
  if (!parsed.success) return undefined;
  const e = parsed.data;
  const env = call.env ?? process.env;
  const { service, action } = call;
  const said = sdkText(e);
  // The SDK error itself is not kept: its response object may hold more than names.
  const cause = e.name || 'Error';
  const override = endpointOverride(service, env);
  const region = env.AWS_REGION?.trim();
  const where = override
    ? `${override.url} (${override.variable})`
    : `the ${service} endpoint of ${region ? `region ${region}` : 'the region'}`;

  if (e.message === 'Region is missing' || e.message.startsWith('Region not accepted')) {
    if (e.message === 'Region is missing' || !region) {
      const legacy = env.AWS_DEFAULT_REGION?.trim()
        ? ' AWS_DEFAULT_REGION is set, but the AWS SDK for JavaScript does not read it.'
        : '';
      return new AwsRunWideError(
        `No AWS region for ${service} ${action} (AWS SDK: ${said})`,
        'AWS_REGION_MISSING',
        `Set AWS_REGION (e.g. AWS_REGION=us-east-1), or region in the AWS profile in use.${legacy}`,
        cause,
      );
    }
    return new AwsRunWideError(
      `AWS_REGION=${region} is not a region (AWS SDK: ${said})`,
      'AWS_REGION_INVALID',
      'Set AWS_REGION to a region code such as us-east-1.',
      cause,
    );
  }
  if (e.name === 'CredentialsProviderError' || e.name === 'TokenProviderError') {
    return new AwsRunWideError(
      `No AWS credentials for ${service} ${action} (AWS SDK: ${said})`,
      'AWS_CREDENTIALS_MISSING',
      "Give the AWS SDK credentials through its default chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN for temporary ones), or AWS_PROFILE naming a profile of ~/.aws/config (after 'aws sso login' for an SSO profile), or the role of the Lambda, container or instance. Against moto_server any non-empty pair works.",
      cause,
    );
  }
  if (REJECTED_CREDENTIALS.has(e.name)) {
    return new AwsRunWideError(
      `${service} rejected the AWS credentials on ${action} (${e.name}: ${said})`,
      'AWS_CREDENTIALS_INVALID',
      "Check the access key pair the SDK picked up ('aws sts get-caller-identity' shows whose it is), or refresh an expired session ('aws sso login', or assume the role again).",
      cause,
    );
  }
  if (connectFailed(e)) {
    return new AwsRunWideError(
      `Cannot connect to ${where} for ${action} (${said})`,
      'AWS_ENDPOINT_UNREACHABLE',
      override
        ? `Check that ${override.variable} is the address the ${service} server listens on${isLocalEndpoint(override.url) ? ' and that the server is running (moto_server, for a local run)' : ''}, or unset it to use AWS.`
        : 'Check the network path to AWS from here (DNS, proxy, VPC endpoint or NAT gateway), and that AWS_REGION is a real region.',
      cause,
    );
  }
  if (notTheService(e)) {
    return new AwsRunWideError(
      `${where} answered ${action} with HTTP ${e.$metadata?.httpStatusCode} and no AWS request id: it is not ${service}`,
      'AWS_ENDPOINT_WRONG',
      override
        ? `Point ${override.variable} at the ${service} endpoint (moto_server's address, for a local run), or unset it to use AWS.`
        : 'Something between here and AWS (a proxy?) answers in its place: check the network path.',
      cause,
    );
  }
  // ListSecrets cannot be scoped to resources: denied, it is denied for every user of the run.
  // Denials of a single secret's actions stay that user's.
  const denied = e.name === 'AccessDeniedException' || e.name === 'AccessDenied';
  if (denied && service === 'Secrets Manager' && action === 'ListSecrets') {
    return new AwsRunWideError(
      `Secrets Manager denied ListSecrets (${said})`,
      'SECRETS_ACCESS_DENIED',
      'Grant the identity the rotator runs as secretsmanager:ListSecrets on "*" (it supports no resource scoping), with the per-secret actions on the secret name prefix, as docs/deploy.md lists them; \'aws sts get-caller-identity\' shows which identity the SDK picked up.',
      cause,
    );
  }
  return undefined;
};
