/**
 * Where the SDK clients send their calls, read the way the SDK reads it: a service's own
 * variable (`AWS_ENDPOINT_URL_SECRETS_MANAGER`) beats the general `AWS_ENDPOINT_URL`, and
 * `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` turns both off (AWS SDKs and Tools reference guide,
 * "Service-specific endpoints"). `endpoint_url` in a shared config profile is not looked at.
 */

export type AwsService = 'Secrets Manager' | 'DynamoDB' | 'EventBridge' | 'STS' | 'KMS';

/** The SDK's variable name: `AWS_ENDPOINT_URL_` and the service id, upper case, `_` for spaces. */
export const endpointVariable = (service: AwsService): string =>
  `AWS_ENDPOINT_URL_${service.toUpperCase().replaceAll(' ', '_')}`;

export interface EndpointOverride {
  /** Scheme, host and port only: a URL may carry a user and password, which never get printed. */
  url: string;
  /** The variable it came from. */
  variable: string;
}

/** Scheme, host and port of a URL: never its user, password, path or query. */
export const origin = (raw: string): string => {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(not a URL)';
  }
};

/** The endpoint the environment gives `service`, or undefined when it goes to AWS itself. */
export const endpointOverride = (
  service: AwsService,
  env: NodeJS.ProcessEnv = process.env,
): EndpointOverride | undefined => {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.trim().toLowerCase() === 'true') return undefined;
  // Empty counts as unset, as in the SDK.
  for (const variable of [endpointVariable(service), 'AWS_ENDPOINT_URL']) {
    const value = env[variable]?.trim();
    if (value) return { url: origin(value), variable };
  }
  return undefined;
};

const LOOPBACK_NAMES = new Set(['localhost', 'host.docker.internal', '0.0.0.0', '[::1]', '[::]']);

/**
 * True for a server that cannot be AWS: a loopback or docker host name or address, or plain
 * `http` (every AWS endpoint of these services is HTTPS), as moto_server or LocalStack serve.
 */
export const isLocalEndpoint = (url: string): boolean => {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const host = u.hostname.toLowerCase();
  return (
    u.protocol === 'http:' ||
    LOOPBACK_NAMES.has(host) ||
    host.endsWith('.localhost') ||
    /^127\.\d+\.\d+\.\d+$/.test(host)
  );
};
