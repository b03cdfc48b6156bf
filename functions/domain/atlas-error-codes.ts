/**
 * Atlas's own `errorCode`s that the Atlas client knows (`adapters/atlas/errors.ts` maps each to a
 * scope and a remedy); any other passes through as Atlas said it. Entries of the catalog in
 * `error-codes.ts`, which checks their shape; `source: 'both'` marks a code the rotator also
 * raises itself, refusing early what Atlas's create would refuse.
 */
export const ATLAS_ERROR_CODES = {
  USER_NOT_MANAGED_X509: {
    scope: 'user',
    source: 'both',
    summary: 'The database user is not x509Type MANAGED on $external.',
    remedy:
      'Set x509Type MANAGED (database $external) on the user in Atlas, or remove it from the config.',
  },
  CANNOT_GENERATE_CERT_IF_ADVANCED_X509: {
    scope: 'user',
    source: 'both',
    summary: 'The project has a customer CA (self-managed X.509): Atlas mints no managed certs.',
    remedy:
      'Remove the customer CA if unused (README, "Disable customer-managed X.509"), or remove the users from the config.',
  },
  NOT_IN_GROUP: {
    scope: 'project',
    source: 'atlas',
    summary: 'The Atlas credential is not a member of the project.',
    remedy: 'Grant the credential Project Read Only to list, Project Owner to create.',
  },
  USER_UNAUTHORIZED: {
    scope: 'project',
    source: 'atlas',
    summary: 'The Atlas credential lacks the role in the project.',
    remedy: 'Grant the credential Project Read Only to list, Project Owner to create.',
  },
  IP_ADDRESS_NOT_ON_ACCESS_LIST: {
    scope: 'project',
    source: 'atlas',
    summary: "The function's egress IP is not on the credential's API access list.",
    remedy: "Add the function's egress IP to the API access list of the credential.",
  },
  IP_ADDRESS_NOT_ON_WHITELIST: {
    scope: 'project',
    source: 'atlas',
    summary: 'The older name of IP_ADDRESS_NOT_ON_ACCESS_LIST.',
    remedy: "Add the function's egress IP to the API access list of the credential.",
  },
  ORG_REQUIRES_ACCESS_LIST: {
    scope: 'project',
    source: 'atlas',
    summary: 'The organization requires an API access list and the caller is not on it.',
    remedy: "Add the function's egress IP to the API access list of the credential.",
  },
  RESOURCE_REQUIRES_ACCESS_LIST: {
    scope: 'project',
    source: 'atlas',
    summary: 'The resource requires an API access list and the caller is not on it.',
    remedy: "Add the function's egress IP to the API access list of the credential.",
  },
  GROUP_NOT_FOUND: {
    scope: 'project',
    source: 'atlas',
    summary: 'Atlas does not know the project id.',
    remedy: 'Check the project id in the config.',
  },
  USERNAME_NOT_FOUND: {
    scope: 'user',
    source: 'atlas',
    summary: 'Atlas does not know the database user.',
    remedy: 'Check that the database user exists in the project.',
  },
  USER_NOT_FOUND: {
    scope: 'user',
    source: 'atlas',
    summary: 'Atlas does not know the database user.',
    remedy: 'Check that the database user exists in the project.',
  },
  RESOURCE_NOT_FOUND: {
    scope: 'user',
    source: 'atlas',
    summary: 'Atlas does not know the resource (usually the database user).',
    remedy:
      "Check that the database user exists in the project; for another call (`/rateLimits`), the project id and the credential's roles.",
  },
  ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED: {
    scope: 'user',
    source: 'atlas',
    summary: 'The user has as many unexpired certificates as Atlas allows.',
    remedy:
      'Wait for old certificates to expire or recreate the user (docs/runbook.md, "CertificateLimitReached").',
  },
  CERT_EXPIRY_CANNOT_EXCEED_TWO_YEARS: {
    scope: 'user',
    source: 'atlas',
    summary: 'Atlas refuses a lifetime over 24 months.',
    remedy: 'Configure a certificate lifetime of 1 to 24 months.',
  },
  ATLAS_MANAGED_X509_NAME_INVALID: {
    scope: 'user',
    source: 'atlas',
    summary: 'Atlas-managed certificates need a plain username (subject CN=<username>).',
    remedy: 'Rename or recreate the user.',
  },
  RATE_LIMITED_TOKEN_BUCKET: {
    scope: 'user',
    source: 'atlas',
    summary: "Atlas's rate limit, still hit after the client waited as told.",
    remedy: 'Lower the concurrency or run again later.',
  },
} as const;
