import {
  type AtlasErrorCode,
  atlasErrorCode,
  type ErrorCode,
  type KnownAtlasCode,
} from '../../domain/error-codes.js';
import {
  CreateOutcomeUnknownError,
  DeadlineError,
  type FailureScope,
  RotatorError,
} from '../../domain/errors.js';

/** Which kind of Atlas credential the run uses; decides which settings a remedy names. */
export type CredentialKind = 'serviceAccount' | 'apiKey';

/** Identifies one Atlas call in messages: method and path, never the query or any header. */
export interface AtlasCall {
  method: string;
  /** Path without query, e.g. `/api/atlas/v2/groups/<id>/databaseUsers/<user>/certs`. */
  path: string;
  groupId?: string;
}

const describe = (call: AtlasCall): string => `Atlas ${call.method} ${call.path}`;

const projectOf = (call: AtlasCall): string => call.groupId ?? 'of this call';

interface ErrorRule {
  scope: FailureScope;
  remedy: (call: AtlasCall, parameters: readonly unknown[]) => string;
}

const notMember: ErrorRule = {
  scope: 'project',
  remedy: (call) =>
    `the credential is not a member of project ${projectOf(call)} or lacks the role: ` +
    'grant Project Read Only to list, Project Owner to create',
};

const accessList: ErrorRule = {
  scope: 'project',
  remedy: (_call, parameters) => {
    // ORG_REQUIRES_ACCESS_LIST names the caller's address as its first parameter.
    const ip = typeof parameters[0] === 'string' && /^[\d.:a-f]+$/i.test(parameters[0]);
    const which = ip ? ` (${String(parameters[0])})` : '';
    return `add this function's egress IP${which} to the API access list of the key/service account`;
  },
};

const userNotFound: ErrorRule = {
  scope: 'user',
  // Atlas answers RESOURCE_NOT_FOUND for other paths too (/rateLimits): name a user only when
  // the call was about one.
  remedy: (call) =>
    call.path.includes('/databaseUsers/')
      ? `check that the database user exists in project ${projectOf(call)}`
      : `Atlas does not know ${call.path} for this credential: check the project id and the credential's roles`,
};

/**
 * Atlas `errorCode` → how far the failure reaches and what the operator should do. Keyed by the
 * catalog's Atlas codes (`domain/error-codes.ts`), whose scopes a test holds these to.
 */
const RULES: Readonly<Partial<Record<KnownAtlasCode, ErrorRule>>> = {
  NOT_IN_GROUP: notMember,
  USER_UNAUTHORIZED: notMember,
  IP_ADDRESS_NOT_ON_ACCESS_LIST: accessList,
  IP_ADDRESS_NOT_ON_WHITELIST: accessList,
  ORG_REQUIRES_ACCESS_LIST: accessList,
  RESOURCE_REQUIRES_ACCESS_LIST: accessList,
  GROUP_NOT_FOUND: {
    scope: 'project',
    remedy: (call) => `check the project id ${projectOf(call)}: Atlas does not know it`,
  },
  USERNAME_NOT_FOUND: userNotFound,
  USER_NOT_FOUND: userNotFound,
  RESOURCE_NOT_FOUND: userNotFound,
  USER_NOT_MANAGED_X509: {
    scope: 'user',
    remedy: () => 'set x509Type MANAGED, databaseName $external on the user',
  },
  // A project setting, but Atlas documents managed and self-managed users coexisting: fail
  // the user that hit it, not the whole project [conflicting sources, see the reference].
  CANNOT_GENERATE_CERT_IF_ADVANCED_X509: {
    scope: 'user',
    remedy: () =>
      'the project has a customer CA (self-managed X.509); Atlas-managed certs cannot be ' +
      'generated until it is disabled (see disable-customer-x509)',
  },
  ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED: {
    scope: 'user',
    remedy: () =>
      'per-user certificate cap reached; wait for old certs to expire or recreate the user',
  },
  CERT_EXPIRY_CANNOT_EXCEED_TWO_YEARS: {
    scope: 'user',
    remedy: () => 'configure a certificate lifetime of 1 to 24 months',
  },
  ATLAS_MANAGED_X509_NAME_INVALID: {
    scope: 'user',
    remedy: () =>
      'Atlas-managed certificates need a plain username (subject CN=<username>, no other ' +
      'attributes); rename or recreate the user',
  },
};

const ruleFor = (status: number, errorCode: string): ErrorRule => {
  const rule = (RULES as Readonly<Record<string, ErrorRule | undefined>>)[errorCode];
  if (rule) return rule;
  if (status === 429) {
    return {
      scope: 'user',
      remedy: () => 'Atlas rate limit reached; lower the concurrency or run again later',
    };
  }
  if (status >= 500) {
    return { scope: 'user', remedy: () => 'Atlas had a server error; run again later' };
  }
  return {
    scope: 'user',
    remedy: () =>
      `look up ${errorCode} in the Atlas Admin API error reference and fix the request or project`,
  };
};

/** Longest Atlas `detail` kept in a message: enough to read, short enough for a log line. */
const MAX_DETAIL = 300;

/** What an Atlas error response said, as read from its `ApiError` body. */
export interface AtlasApiErrorInit extends AtlasCall {
  status: number;
  /** Atlas's `errorCode`, or `HTTP_<status>` when the body was not an `ApiError`. */
  errorCode: string;
  detail: string;
  parameters?: readonly unknown[];
  cause?: unknown;
}

/**
 * Atlas answered with an error status. `scope` and `remedy` come from Atlas's `errorCode`
 * (see `RULES`); `code` is that `errorCode`.
 */
export class AtlasApiError extends RotatorError {
  readonly status: number;
  readonly errorCode: AtlasErrorCode;
  readonly detail: string;
  readonly method: string;
  readonly path: string;
  /** Atlas's `parameters`: a 429's state the bucket. */
  readonly parameters: readonly unknown[];

  constructor(init: AtlasApiErrorInit) {
    const rule = ruleFor(init.status, init.errorCode);
    const detail =
      init.detail.length > MAX_DETAIL ? `${init.detail.slice(0, MAX_DETAIL)}…` : init.detail;
    super(`${describe(init)} failed: ${init.status} ${init.errorCode}: ${detail}`, {
      code: atlasErrorCode(init.errorCode),
      remedy: rule.remedy(init, init.parameters ?? []),
      scope: rule.scope,
      cause: init.cause,
    });
    this.name = 'AtlasApiError';
    this.status = init.status;
    this.errorCode = atlasErrorCode(init.errorCode);
    this.detail = detail;
    this.method = init.method;
    this.path = init.path;
    this.parameters = init.parameters ?? [];
  }
}

const credentialRemedy = (kind: CredentialKind): string =>
  kind === 'serviceAccount'
    ? 'check or rotate the Atlas service account secret (MONGODB_ATLAS_CLIENT_ID / ' +
      'MONGODB_ATLAS_CLIENT_SECRET or the credentials secret): it may be wrong, expired or revoked'
    : 'check or rotate the Atlas API key (MONGODB_ATLAS_PUBLIC_API_KEY / ' +
      'MONGODB_ATLAS_PRIVATE_API_KEY or the credentials secret): it may be wrong or deleted';

/**
 * Atlas rejected the credential itself (token endpoint refused it, or an API call stayed 401
 * after a fresh token or a fresh Digest challenge). Nothing will work this run.
 */
export class AtlasAuthError extends RotatorError {
  readonly credentialKind: CredentialKind;

  constructor(
    message: string,
    options: { kind: CredentialKind; code?: ErrorCode; cause?: unknown; remedy?: string },
  ) {
    super(message, {
      code: options.code ?? 'ATLAS_CREDENTIALS_REJECTED',
      remedy: options.remedy ?? credentialRemedy(options.kind),
      scope: 'run',
      cause: options.cause,
    });
    this.name = 'AtlasAuthError';
    this.credentialKind = options.kind;
  }
}

/**
 * The create request may have reached Atlas and minted a certificate whose key we never saw
 * (timeout, connection reset after sending, 5xx that does not promise it was refused).
 */
export class AtlasCreateOutcomeUnknownError extends CreateOutcomeUnknownError {
  constructor(call: AtlasCall, reason: string, cause?: unknown) {
    super(`${describe(call)}: the outcome is unknown (${reason})`, {
      code: 'CREATE_OUTCOME_UNKNOWN',
      remedy:
        'list the certificates again and compare serial numbers before creating another: ' +
        'Atlas may have issued one whose private key was lost',
      scope: 'user',
      cause,
    });
    this.name = 'AtlasCreateOutcomeUnknownError';
  }
}

/** Atlas could not be reached, or kept failing until the retries ran out. */
export class AtlasUnavailableError extends RotatorError {
  constructor(call: AtlasCall, reason: string, cause?: unknown) {
    super(`${describe(call)} unavailable: ${reason}`, {
      code: 'ATLAS_UNAVAILABLE',
      remedy:
        'check the network path to Atlas (NAT, DNS, https://status.mongodb.com) and run again',
      scope: 'user',
      cause,
    });
    this.name = 'AtlasUnavailableError';
  }
}

/** What a cause code means, in words. */
const unreachableWhy = (code: string): string =>
  code === 'ECONNREFUSED'
    ? 'connection refused'
    : code === 'ENOTFOUND'
      ? 'host name not found'
      : 'TLS refused the certificate';

/**
 * Atlas cannot be reached at all (connection refused, a name that does not resolve, a TLS
 * certificate error): every request would fail alike, so the run stops at once, naming where
 * it tried and why, as the AWS SDK's errors do. Nothing was sent.
 */
export class AtlasUnreachableError extends RotatorError {
  readonly causeCode: string;
  readonly hostPort: string;

  constructor(call: AtlasCall, baseUrl: string, code: string, cause?: unknown) {
    const url = new URL(baseUrl);
    const port = url.port || (url.protocol === 'http:' ? '80' : '443');
    const hostPort = `${url.hostname}:${port}`;
    super(
      `Atlas at ${hostPort} is unreachable: ${code} (${unreachableWhy(code)}) on ${describe(call).slice(6)}`,
      {
        code: 'ATLAS_UNREACHABLE',
        remedy:
          `check atlas.baseUrl (${url.origin}), DNS and the network path to it (NAT, security groups, a proxy)` +
          (code === 'ECONNREFUSED' || code === 'ENOTFOUND'
            ? ''
            : '; and the certificate the host presents'),
        scope: 'run',
        cause,
      },
    );
    this.name = 'AtlasUnreachableError';
    this.causeCode = code;
    this.hostPort = hostPort;
  }
}

/**
 * A success response that is not what the contract says (not JSON, or not the schema). The
 * message names the call and what was wrong, never the body: it may hold a key or a token.
 */
export class AtlasResponseError extends RotatorError {
  constructor(call: AtlasCall, what: string) {
    super(`${describe(call)} returned an unexpected response: ${what}`, {
      code: 'ATLAS_BAD_RESPONSE',
      remedy:
        'the Atlas API changed or a proxy answered instead of Atlas; check the base URL and ' +
        'report it if it persists',
      scope: 'user',
    });
    this.name = 'AtlasResponseError';
  }
}

/**
 * Waiting for the next retry would pass the caller's deadline: the run's end or, for a create,
 * the last moment an attempt may start and still leave time to store its key.
 */
export class AtlasDeadlineError extends DeadlineError {
  readonly waitMs: number;

  constructor(call: AtlasCall, waitMs: number, cause?: unknown, why?: string) {
    super(
      `${describe(call)}: stopped, ${why ?? `a retry in ${waitMs} ms would start too late for this run's deadline`}`,
      {
        code: 'DEADLINE_EXCEEDED',
        remedy: 'the run ran out of time; the next scheduled run continues the work',
        // The rotation reports the user as deferred; other users may still have time.
        scope: 'user',
        cause,
      },
    );
    this.name = 'AtlasDeadlineError';
    this.waitMs = waitMs;
  }
}

/**
 * A request that would leave after the last moment it may: a create after its `startBy` (its
 * key could not be stored in time), any request after the run's deadline. Whatever held it up
 * inside its attempt (a credential re-read, a new token, Digest challenges, a pacing wait), it
 * is not sent: nothing minted, the user deferred to the next run.
 */
export const lateToSend = (
  call: AtlasCall & { startBy?: number | undefined },
  sendBy: number,
  now: number,
  step: string,
): AtlasDeadlineError =>
  new AtlasDeadlineError(
    call,
    0,
    undefined,
    `not sent: ${step} ended ${now - sendBy} ms after ${call.startBy === sendBy ? 'the last moment a create may start (startBy)' : "the run's deadline"}; nothing was sent`,
  );
