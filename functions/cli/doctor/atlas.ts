import type { AtlasClient } from '../../adapters/atlas/client.js';
import { AtlasApiError } from '../../adapters/atlas/errors.js';
import { publishedShape } from '../../adapters/atlas/pacing.js';
import type { RotatorConfig } from '../../domain/config/types.js';
import { asError } from '../../domain/errors.js';
import type { Log } from '../../domain/log.js';
import { atlasClient } from '../../runtime.js';
import { attempt, type CheckResult, failed, isDenied, stopsRun } from './findings.js';

/** The Atlas side of `doctor`: the credential, proven by a real call, then what it may read. */

/** A read every run makes, to prove the credential: Atlas must issue a token or take a Digest. */
const proveCredential = async (
  atlas: AtlasClient,
  projectId: string | undefined,
): Promise<Omit<CheckResult, 'name'>> => {
  const { credentials } = atlas;
  const who =
    credentials.kind === 'serviceAccount'
      ? `service account ${credentials.clientId}`
      : `API key ${credentials.publicApiKey}`;
  if (!projectId) return { status: 'ok', detail: `${who} (no project configured to read)` };
  try {
    await atlas.listDatabaseUsers(projectId);
  } catch (err) {
    // Atlas took the credential but refused this project: the project's own lines say so.
    // (An AtlasAuthError is the credential itself rejected: not an AtlasApiError.)
    if (!(err instanceof AtlasApiError)) throw err;
  }
  return {
    status: 'ok',
    detail:
      credentials.kind === 'serviceAccount'
        ? `${who}: Atlas issued a token (${atlas.stats.tokenRequests} token request)`
        : `${who}: Atlas answered a Digest-signed read`,
  };
};

export const credentialCheck = async (options: {
  config: RotatorConfig;
  log: Log;
  env: NodeJS.ProcessEnv;
}): Promise<{ result: CheckResult; atlas: AtlasClient | undefined }> => {
  let atlas: AtlasClient | undefined;
  const result = await attempt('Atlas credential', async () => {
    const connected = await atlasClient(
      options,
      options.config.atlas.credentialsSecretId,
      () => new Date(),
    );
    atlas = connected.atlas;
    return proveCredential(connected.atlas, options.config.projects[0]?.projectId);
  });
  return { result, atlas: result.status === 'ok' ? atlas : undefined };
};

/** The first user the config names in a project, for the certificate check. */
const firstUser = (config: RotatorConfig, projectId: string): string | undefined =>
  config.projects.find((p) => p.projectId === projectId)?.users[0]?.username;

const RATE_LIMITS_REMEDY =
  "Optional: runs pace from defaults and Atlas's rate-limit headers without it. To start from the published bucket, give the credential a role that may read GET /api/atlas/v2/rateLimits (Atlas Admin API reference, Rate Limits).";

export const atlasChecks = async (
  config: RotatorConfig,
  atlas: AtlasClient,
  projectId: string,
): Promise<CheckResult[]> => {
  const results = [
    await attempt(`database users (${projectId})`, async () => {
      const users = await atlas.listDatabaseUsers(projectId);
      const managed = users.filter((u) => u.x509Type === 'MANAGED').length;
      return { status: 'ok', detail: `${users.length} users, ${managed} with Atlas-managed X.509` };
    }),
  ];
  // A credential Atlas rejects (or an address off the access list) fails every later call too.
  if (results[0] && stopsRun(results[0])) return results;
  const username = firstUser(config, projectId);
  if (username) {
    results.push(
      await attempt(`certificates (${projectId}:${username})`, async () => {
        const certs = await atlas.listCertificates(projectId, username);
        return { status: 'ok', detail: `${certs.length} certificates listed` };
      }),
    );
  }
  results.push(
    await attempt(
      `customer X.509 (${projectId})`,
      async () => {
        const security = await atlas.getUserSecurity(projectId);
        return security.customerX509?.cas
          ? {
              status: 'fail',
              detail: 'the project has a customer CA: Atlas refuses to mint managed certificates',
              remedy:
                'Remove the customer CA (disable-customer-x509) or take the project out of the config.',
              code: 'CANNOT_GENERATE_CERT_IF_ADVANCED_X509',
            }
          : { status: 'ok', detail: 'no customer CA' };
      },
      (err) =>
        isDenied(err)
          ? {
              ...failed(`customer X.509 (${projectId})`, err, 'warn'),
              detail:
                'userSecurity is not readable with this credential: a customer CA would only show when a mint is refused',
              remedy:
                'Optional: grant Project Read Only (or higher) to see a customer CA before a run meets it.',
            }
          : failed(`customer X.509 (${projectId})`, err),
    ),
    await attempt(
      `rate limits (${projectId})`,
      async () => {
        const limit = await atlas.getCertificateRateLimit(projectId);
        if (!publishedShape(limit)) {
          return {
            status: 'warn',
            detail:
              "/rateLimits lists no bucket with a capacity and refill for the certificate endpoints: pacing starts from its defaults and follows Atlas's headers",
            remedy: RATE_LIMITS_REMEDY,
          };
        }
        return {
          status: 'ok',
          detail: `certificate bucket: capacity ${limit?.capacity?.value}, refill ${limit?.refillRate?.value} per ${limit?.refillDurationSeconds?.value} s, scope ${limit?.scope ?? '?'}: pacing starts from it`,
        };
      },
      // Whatever Atlas's code for the refusal, the remedy is about /rateLimits, not the call's
      // generic rule (a 404 there is not a missing database user).
      (err) => ({
        ...failed(`rate limits (${projectId})`, err, 'warn'),
        detail: `/rateLimits is not readable (${err instanceof AtlasApiError ? `${err.status} ${err.errorCode}` : asError(err).name}): pacing starts from its defaults and follows Atlas's headers`,
        remedy: RATE_LIMITS_REMEDY,
      }),
    ),
  );
  return results;
};
