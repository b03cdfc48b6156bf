import type { z } from 'zod';
import type { DisableAtlasPort } from '../../domain/customer-x509.js';
import { RotatorError } from '../../domain/errors.js';
import type {
  AtlasCertificate,
  AtlasDatabaseUser,
  AtlasPort,
  CreateOptions,
} from '../../domain/rotation/ports.js';
import type { AtlasCredentials } from './auth.js';
import type { CallSpec } from './call.js';
import type { AtlasClientOptions, AtlasClientStats } from './client-options.js';
import { AtlasApiError, AtlasResponseError } from './errors.js';
import { parseBody } from './responses.js';
import {
  databaseUserPageSchema,
  type RateLimit,
  rateLimitsSchema,
  type ServiceAccount,
  serviceAccountSchema,
  type UserSecurity,
  userCertPageSchema,
  userSecuritySchema,
} from './schemas.js';
import { AtlasTransport } from './transport.js';

export type { ServiceAccount, UserSecurity } from './schemas.js';

const SERVICE_ACCOUNT_MEDIA_TYPE = 'application/vnd.atlas.2024-08-05+json';
const RATE_LIMITS_MEDIA_TYPE = 'application/vnd.atlas.2025-03-12+json';
/** The certificate endpoints' path as `/rateLimits` names it. */
const CERTS_ENDPOINT_PATH = '/api/atlas/v2/groups/{groupId}/databaseUsers/{username}/certs';
/** Atlas's maximum page size: one request for any realistic number of certificates. */
const PAGE_SIZE = 500;
/** Guards against a server that never returns a short page. */
const MAX_PAGES = 200;

const GROUP_ID = /^[a-f0-9]{24}$/;

const groupPath = (groupId: string): string => {
  if (!GROUP_ID.test(groupId)) {
    throw new RotatorError(`Not an Atlas project id: ${JSON.stringify(groupId.slice(0, 40))}`, {
      code: 'INVALID_PROJECT_ID',
      remedy: 'configure the 24-hex-digit project id shown in Atlas under Project Settings',
      scope: 'project',
    });
  }
  return `/api/atlas/v2/groups/${encodeURIComponent(groupId)}`;
};

/**
 * Client for the Atlas Admin API v2 operations the rotator needs, pinned to version
 * 2023-01-01: the endpoints, over {@link AtlasTransport}. Safe calls retry transient failures;
 * certificate creation retries only when no certificate can have been minted and otherwise
 * throws `AtlasCreateOutcomeUnknownError`.
 */
export class AtlasClient implements AtlasPort, DisableAtlasPort {
  private readonly transport: AtlasTransport;

  constructor(options: AtlasClientOptions) {
    this.transport = new AtlasTransport(options);
  }

  /** Counters for the run report; they only grow. */
  get stats(): AtlasClientStats {
    return this.transport.stats;
  }

  /** The credential in use now: the one given, or the newer one a re-read found. */
  get credentials(): AtlasCredentials {
    return this.transport.credentials;
  }

  /** All unexpired certificates of a database user (every page, 500 per page). */
  async listCertificates(groupId: string, username: string): Promise<AtlasCertificate[]> {
    const path = `${groupPath(groupId)}/databaseUsers/${encodeURIComponent(username)}/certs`;
    return this.listAll({ method: 'GET', path, groupId, safety: 'safe' }, userCertPageSchema);
  }

  /**
   * Mints a certificate and returns the response body verbatim: certificate PEM followed by
   * the unencrypted PKCS#8 private key. Atlas returns the key only here; it is never logged.
   *
   * @throws AtlasCreateOutcomeUnknownError when a certificate may have been minted anyway.
   */
  async createCertificate(
    groupId: string,
    username: string,
    monthsUntilExpiration: number,
    options: CreateOptions = {},
  ): Promise<string> {
    if (
      !Number.isInteger(monthsUntilExpiration) ||
      monthsUntilExpiration < 1 ||
      monthsUntilExpiration > 24
    ) {
      throw new RotatorError(
        `Certificate lifetime must be 1 to 24 months, got ${monthsUntilExpiration}`,
        {
          code: 'INVALID_CERT_LIFETIME',
          remedy: 'configure a certificate lifetime of 1 to 24 months',
          scope: 'user',
        },
      );
    }
    const path = `${groupPath(groupId)}/databaseUsers/${encodeURIComponent(username)}/certs`;
    const spec: CallSpec = {
      method: 'POST',
      path,
      groupId,
      safety: 'create',
      body: JSON.stringify({ monthsUntilExpiration }),
      startBy: options.startBy,
    };
    // The body is PEM under a JSON content type: it was read as text, never parsed as JSON.
    // Whatever a 2xx carries, Atlas has minted: the caller validates it (and counts an orphan
    // when it is unusable), so it is returned as is.
    return (await this.transport.call(spec)).text;
  }

  /** All database users of a project (every page). */
  async listDatabaseUsers(groupId: string): Promise<AtlasDatabaseUser[]> {
    const path = `${groupPath(groupId)}/databaseUsers`;
    return this.listAll({ method: 'GET', path, groupId, safety: 'safe' }, databaseUserPageSchema);
  }

  /** The project's X.509 (customer CA) and LDAP settings. */
  async getUserSecurity(groupId: string): Promise<UserSecurity> {
    const spec: CallSpec = {
      method: 'GET',
      path: `${groupPath(groupId)}/userSecurity`,
      groupId,
      safety: 'safe',
    };
    return parseBody(spec, await this.transport.call(spec), userSecuritySchema);
  }

  /**
   * Whether the project has a customer CA, under which Atlas refuses managed certificates.
   * Undefined when the credential may not read it: the endpoint needs Project Owner, more than
   * the daily rotation may hold.
   */
  async customerCaConfigured(groupId: string): Promise<boolean | undefined> {
    try {
      return Boolean((await this.getUserSecurity(groupId)).customerX509.cas?.trim());
    } catch (err) {
      if (err instanceof AtlasApiError && (err.status === 401 || err.status === 403)) {
        return undefined;
      }
      throw err;
    }
  }

  /**
   * Removes the project's customer CA (self-managed X.509); triggers a rolling restart of the
   * project's clusters. Retried only when Atlas provably did not act on it.
   */
  async disableCustomerX509(groupId: string): Promise<UserSecurity> {
    const spec: CallSpec = {
      method: 'DELETE',
      path: `${groupPath(groupId)}/userSecurity/customerX509`,
      groupId,
      safety: 'unsafe',
    };
    return parseBody(spec, await this.transport.call(spec), userSecuritySchema);
  }

  /**
   * A service account of the organization, with its secrets' expiry dates (never their
   * values). The endpoint exists from version 2024-08-05 only.
   */
  async getServiceAccount(orgId: string, clientId: string): Promise<ServiceAccount> {
    if (!GROUP_ID.test(orgId)) {
      throw new RotatorError(
        `Not an Atlas organization id: ${JSON.stringify(orgId.slice(0, 40))}`,
        {
          code: 'INVALID_ORG_ID',
          remedy:
            'configure the 24-hex-digit organization id shown in Atlas under Organization Settings',
          scope: 'user',
        },
      );
    }
    const spec: CallSpec = {
      method: 'GET',
      path: `/api/atlas/v2/orgs/${orgId}/serviceAccounts/${encodeURIComponent(clientId)}`,
      safety: 'safe',
      mediaType: SERVICE_ACCOUNT_MEDIA_TYPE,
    };
    return parseBody(spec, await this.transport.call(spec), serviceAccountSchema);
  }

  /**
   * The token bucket that governs a project's certificate endpoints (`GET /rateLimits`, version
   * 2025-03-12): capacity, refill and scope, where the credential may read it.
   */
  async getCertificateRateLimit(groupId: string): Promise<RateLimit | undefined> {
    const spec: CallSpec = {
      method: 'GET',
      path: '/api/atlas/v2/rateLimits',
      query: `groupId=${groupId}&endpointPath=${encodeURIComponent(CERTS_ENDPOINT_PATH)}`,
      safety: 'safe',
      mediaType: RATE_LIMITS_MEDIA_TYPE,
    };
    const { results } = parseBody(spec, await this.transport.call(spec), rateLimitsSchema);
    // Filtered by endpointPath already; the set that names the path, if it says.
    return (
      results.find((set) => set.endpoints?.some((e) => e.path === CERTS_ENDPOINT_PATH)) ??
      results[0]
    );
  }

  private async listAll<T>(spec: CallSpec, schema: z.ZodType<{ results: T[] }>): Promise<T[]> {
    const all: T[] = [];
    for (let pageNum = 1; pageNum <= MAX_PAGES; pageNum++) {
      const page = { ...spec, query: `itemsPerPage=${PAGE_SIZE}&pageNum=${pageNum}` };
      const { results } = parseBody(page, await this.transport.call(page), schema);
      all.push(...results);
      // totalCount is documented as an estimate: a short page is the reliable end marker.
      if (results.length < PAGE_SIZE) return all;
    }
    throw new AtlasResponseError(spec, `pagination did not end after ${MAX_PAGES} pages`);
  }
}
