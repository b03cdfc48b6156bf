import { ATLAS_ERROR_CODES } from './atlas-error-codes.js';

/**
 * Every error code a failure can carry, in one place: how far it reaches, where it comes from,
 * what it means and what to do. `RotatorError`'s `code` is typed from it, so a code that is not
 * here does not compile; `test/domain/error-codes.test.ts` checks the README's error table and
 * the runbook against it. Throw sites still word their own remedy (with the names and commands
 * of the case at hand); the remedy here is the general one the docs give.
 */

/**
 * How far a failure reaches. A credential failure ends the whole run, a project failure fails
 * every user of that project, a user failure fails that user only.
 */
export type FailureScope = 'run' | 'project' | 'user';

/**
 * Who raises a code: this rotator; Atlas, passed through from its `errorCode`; or both (the
 * rotator refuses early what Atlas's create would refuse, under Atlas's code).
 */
export type CodeSource = 'rotator' | 'atlas' | 'both';

export interface ErrorCodeEntry {
  /**
   * How far a failure with this code reaches, as raised today. `any`: raised with the scope of
   * the step that failed (an unexpected error).
   */
  readonly scope: FailureScope | 'any';
  /** @default 'rotator' */
  readonly source?: CodeSource;
  /** What happened, in a line. */
  readonly summary: string;
  /** What the operator should do next. */
  readonly remedy: string;
  /**
   * False for a code that cannot reach a run report's row (its `errorCode`, or a drift
   * finding's): one raised before a run starts (config, request) or by another command.
   */
  readonly inReport?: false;
}

export const ERROR_CODES = {
  // ---- the run: configuration, request, credentials, AWS, the lease table -----------------
  INVALID_CONFIG: {
    scope: 'run',
    summary: 'The rotation config (or the consumers or replica Regions beside it) is invalid.',
    remedy: 'Fix the listed fields; nothing was called or changed.',
    inReport: false,
  },
  INVALID_REQUEST: {
    scope: 'run',
    summary: 'The rotate payload or the CLI flags contradict themselves or name unknown fields.',
    remedy:
      'Send {} (scheduled run), {"dryRun":true}, or a forced request with only (or all) and, to retry it safely, a requestId; from the CLI, --force with --only or --all.',
    inReport: false,
  },
  REFUSED: {
    scope: 'run',
    summary: 'disable-customer-x509 refused the request: invalid, unconfirmed, or not allowed.',
    remedy: 'Follow the message: confirm with the right project id, or drop the request.',
    inReport: false,
  },
  ATLAS_CREDENTIALS_MISSING: {
    scope: 'run',
    summary: 'No Atlas credential, or the credentials secret cannot be read or holds none.',
    remedy:
      'Set MONGODB_ATLAS_CLIENT_ID and MONGODB_ATLAS_CLIENT_SECRET (or an API key pair), or put {"clientId","clientSecret","orgId"} in the secret named by atlas.credentialsSecretId.',
  },
  ATLAS_CREDENTIALS_ORG_MISMATCH: {
    scope: 'run',
    summary: "The credentials secret's orgId is not the config's atlas.organizationId.",
    remedy:
      "Set atlas.organizationId to the service account's organization (or remove it), or store a service account of that organization.",
  },
  ATLAS_CREDENTIALS_REJECTED: {
    scope: 'run',
    summary: 'Atlas rejected the service account or API key, also after reading it again.',
    remedy:
      'Check or rotate the Atlas credential (the environment or the credentials secret): it may be wrong, expired or revoked.',
  },
  ATLAS_TOKEN_REQUEST_FAILED: {
    scope: 'run',
    summary: "Atlas's token endpoint did not answer as expected.",
    remedy: 'Check the Atlas base URL; the token endpoint did not answer as expected.',
  },
  ATLAS_UNREACHABLE: {
    scope: 'run',
    summary:
      'Atlas could not be reached at all: connection refused, the host name not found, or a TLS certificate error.',
    remedy:
      'Check atlas.baseUrl (host and port), DNS and the network path to Atlas (NAT, security groups, a proxy); for a TLS error, the certificate the host presents.',
  },
  AWS_REGION_MISSING: {
    scope: 'run',
    summary: 'No AWS Region (the SDK for JavaScript does not read AWS_DEFAULT_REGION).',
    remedy: 'Set AWS_REGION, or region in the AWS profile in use.',
  },
  AWS_REGION_INVALID: {
    scope: 'run',
    summary: 'AWS_REGION is not a Region.',
    remedy: 'Set AWS_REGION to a Region code such as us-east-1.',
  },
  AWS_CREDENTIALS_MISSING: {
    scope: 'run',
    summary: "The AWS SDK's credential chain found no credentials.",
    remedy:
      'Give the SDK credentials through its default chain: access keys, AWS_PROFILE, or the role of the Lambda, container or instance.',
  },
  AWS_CREDENTIALS_INVALID: {
    scope: 'run',
    summary: 'AWS rejected the credentials (unknown key, bad signature, expired session).',
    remedy:
      "Check the key pair the SDK picked up ('aws sts get-caller-identity'), or refresh an expired session.",
  },
  AWS_ENDPOINT_UNREACHABLE: {
    scope: 'run',
    summary: 'The AWS endpoint (or the AWS_ENDPOINT_URL* override) cannot be reached.',
    remedy:
      'Check the network path to AWS, or that the override is the address the server listens on.',
  },
  AWS_ENDPOINT_WRONG: {
    scope: 'run',
    summary: 'Something that is not the AWS service answered in its place.',
    remedy: 'Point the AWS_ENDPOINT_URL* override at the service, or check the network path.',
  },
  SECRETS_ACCESS_DENIED: {
    scope: 'run',
    summary: 'Secrets Manager denied ListSecrets, which no resource policy can scope.',
    remedy:
      'Grant secretsmanager:ListSecrets on "*" with the per-secret actions on the prefix (docs/deploy.md).',
  },
  LEASE_TABLE_MISSING: {
    scope: 'run',
    summary: 'The DynamoDB lease table does not exist.',
    remedy: 'Deploy the stack, or create the table (README, "Lease table").',
  },
  LEASE_TABLE_UNAVAILABLE: {
    scope: 'run',
    summary: 'The lease table cannot be read.',
    remedy: 'Check DynamoDB permissions (DescribeTable, PutItem, DeleteItem) and the Region.',
  },

  // ---- a project ------------------------------------------------------------------------
  INVALID_PROJECT_ID: {
    scope: 'project',
    summary: 'A project id is not 24 hex digits.',
    remedy: 'Configure the project id shown in Atlas under Project Settings.',
  },

  // ---- a user: what the rotator refuses or finds -----------------------------------------
  SECRET_SCHEDULED_FOR_DELETION: {
    scope: 'user',
    summary: "The user's secret is scheduled for deletion.",
    remedy: 'Restore it (aws secretsmanager restore-secret) or remove the user from the config.',
  },
  SECRET_ROTATION_ENABLED: {
    scope: 'user',
    summary: 'The secret has Secrets Manager rotation on: another rotator owns its versions.',
    remedy:
      'Turn that rotation off (aws secretsmanager cancel-rotate-secret) or point the user at another secretName.',
  },
  SECRET_FOREIGN_VALUE: {
    scope: 'user',
    summary: 'The secret holds a value this rotator did not write.',
    remedy:
      'Point the user at another secretName, or replace the value deliberately with --force --only.',
  },
  SECRET_NAME_COLLISION: {
    scope: 'user',
    summary: 'Two users would share one secret name.',
    remedy: 'Give one of the users an explicit secretName, or exclude one from discovery.',
  },
  HELD_CERTIFICATE_UNKNOWN_TO_ATLAS: {
    scope: 'user',
    summary: 'Atlas does not list the unexpired certificate the secret holds.',
    remedy:
      'Check that the secret belongs to the user (was it re-created?); replace it deliberately with --force --only.',
  },
  FOREIGN_PENDING_VERSION: {
    scope: 'user',
    summary: 'The secret has an AWSPENDING version this rotator did not write.',
    remedy:
      "Finish or remove the other tool's AWSPENDING, or point the user at another secretName. Nothing was minted or dropped.",
  },
  USER_NOT_CONFIGURED: {
    scope: 'user',
    summary: 'A user named in --only is neither configured nor discovered.',
    remedy: 'Add the user to the config (or enable discovery for its project), or check the name.',
  },
  ORPHAN_LIMIT: {
    scope: 'user',
    summary: 'Too many certificates minted in the window lost their keys (orphans).',
    remedy:
      'Find why keys were lost (earlier failures) and fix it; the limit clears as the orphans age out of the window.',
  },
  MINT_CAP: {
    scope: 'user',
    summary: 'Atlas already lists rotation.maxMintsPerWindow certificates created in the window.',
    remedy:
      'Find what keeps rejecting or losing new certificates and fix it; the cap clears as they age out of rotation.orphanWindowDays.',
  },
  INVALID_CERT_LIFETIME: {
    scope: 'user',
    summary: 'A certificate lifetime outside 1 to 24 months was asked for.',
    remedy: 'Configure a certificate lifetime of 1 to 24 months.',
  },
  CERTIFICATE_REJECTED: {
    scope: 'user',
    summary: "Atlas's new certificate failed validation (key, subject, dates or format).",
    remedy:
      'Nothing was made current. If it repeats, check the Atlas user and open an issue with the run report.',
  },
  CREATE_OUTCOME_UNKNOWN: {
    scope: 'user',
    summary: 'A create got no usable answer twice; Atlas may have minted (orphans).',
    remedy:
      'Nothing was made current; the next run lists again before creating. Check the network path to Atlas if it repeats.',
  },
  NEW_CERTIFICATE_NOT_LISTED: {
    scope: 'user',
    summary: 'Atlas does not list the new certificate yet: stored as AWSPENDING.',
    remedy: 'The next run promotes it once Atlas lists it; if it never does, check the Atlas user.',
  },
  PENDING_NOT_LISTED: {
    scope: 'user',
    summary: 'Atlas does not list the pending certificate yet: left pending.',
    remedy: 'The next run promotes it once Atlas lists it; nothing to do unless this repeats.',
  },
  VERIFY_FAILED: {
    scope: 'user',
    summary: 'The new certificate could not log in to verify.uri: left AWSPENDING.',
    remedy:
      "Check the path to the cluster (VPC, peering, the cluster's IP access list) and that the user exists there; the next run checks again.",
  },
  DEADLINE_EXCEEDED: {
    scope: 'user',
    summary: "Waiting longer would pass the run's deadline: the user is deferred, not failed.",
    remedy: 'The next run continues the work.',
    inReport: false,
  },
  LEASE_UNAVAILABLE: {
    scope: 'user',
    summary: "The user's lease could not be taken (not because another run holds it).",
    remedy: 'Nothing was minted; the next run tries again. Nothing to do unless it repeats.',
  },
  INTERNAL_ERROR: {
    scope: 'any',
    summary: 'An unexpected error, reported at the scope of the step that failed.',
    remedy: 'Retry the run; if it repeats, open an issue with this report.',
  },

  // ---- a user: Atlas or AWS failed ---------------------------------------------------------
  ATLAS_UNAVAILABLE: {
    scope: 'user',
    summary: 'Atlas could not be reached, or kept failing until the retries ran out.',
    remedy: 'Check the network path to Atlas (NAT, DNS, https://status.mongodb.com) and run again.',
  },
  ATLAS_BAD_RESPONSE: {
    scope: 'user',
    summary: 'An Atlas success response was not what the API promises.',
    remedy:
      'The Atlas API changed or a proxy answered instead; check the base URL and report it if it persists.',
  },
  INVALID_ORG_ID: {
    scope: 'user',
    summary: 'An organization id is not 24 hex digits (reading the service account expiry).',
    remedy: 'Configure the organization id shown in Atlas under Organization Settings.',
    inReport: false,
  },
  SECRET_ACCESS_DENIED: {
    scope: 'user',
    summary: "Secrets Manager denied an action on the user's secret.",
    remedy: 'Grant the rotator role access to secrets under the configured prefix.',
  },
  KMS_ACCESS_DENIED: {
    scope: 'user',
    summary: "KMS refused to encrypt or decrypt the user's secret.",
    remedy:
      "Check the secret's KMS key exists, is enabled, and its key policy lets the rotator role use it.",
  },
  SECRET_INVALID_STATE: {
    scope: 'user',
    summary: "Secrets Manager rejected the action in the secret's state (often: deletion).",
    remedy: 'Restore the secret (aws secretsmanager restore-secret) or check its state.',
  },
  SECRET_STORE_FAILED: {
    scope: 'user',
    summary: 'A Secrets Manager call failed (throttled, a 5xx after retries, ...).',
    remedy: 'Retry the run; if it persists, check Secrets Manager health and quotas.',
  },
  RESOURCE_POLICY_REFUSED: {
    scope: 'user',
    summary: "Secrets Manager refused the consumers' resource policy (a principal does not exist).",
    remedy:
      'Check that every consumer principal for the project exists; the next run puts the policy again.',
  },
  REPLICA_REGION_REFUSED: {
    scope: 'user',
    summary: 'Secrets Manager refused to replicate to a Region.',
    remedy:
      "Check that the Region is enabled for the account and the replica's KMS key exists there.",
  },
  REPLICA_FAILED: {
    scope: 'user',
    summary: 'Secrets Manager reports a replica Failed.',
    remedy:
      'Fix the cause it names, then remove the Region from replication; the next run replicates it again (docs/deploy.md).',
  },

  ...ATLAS_ERROR_CODES,
} as const satisfies Record<string, ErrorCodeEntry>;

type Catalog = typeof ERROR_CODES;

/** Every code in the catalog. */
export type CatalogCode = keyof Catalog;

/** The codes this rotator raises itself (`source` rotator, the default, or both). */
export type ErrorCode = {
  [K in CatalogCode]: Catalog[K] extends { source: 'atlas' } ? never : K;
}[CatalogCode];

/** Atlas's codes the client knows (`source` atlas or both). */
export type KnownAtlasCode = {
  [K in CatalogCode]: Catalog[K] extends { source: 'atlas' | 'both' } ? K : never;
}[CatalogCode];

declare const passedThrough: unique symbol;

/**
 * An Atlas `errorCode` the catalog does not list, or `HTTP_<status>` for an error response
 * without an Atlas body: passed through as Atlas said it. Made only by `atlasErrorCode`, so a
 * misspelt code of ours cannot pass for one.
 */
export type UnknownAtlasCode = string & { readonly [passedThrough]: true };

export type AtlasErrorCode = KnownAtlasCode | UnknownAtlasCode;

/** What a failure's `code` holds: one of ours, or Atlas's. */
export type FailureCode = ErrorCode | AtlasErrorCode;

/** Takes an `errorCode` from an Atlas response as it is. */
export const atlasErrorCode = (raw: string): AtlasErrorCode => raw as AtlasErrorCode;

export const isCatalogCode = (code: string): code is CatalogCode =>
  Object.hasOwn(ERROR_CODES, code);
