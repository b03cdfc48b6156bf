import { DescribeEventBusCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { AtlasClient } from '../adapters/atlas/client.js';
import { AtlasApiError } from '../adapters/atlas/errors.js';
import { publishedShape } from '../adapters/atlas/pacing.js';
import { dynamoDb, eventBridge, secretsManager } from '../adapters/aws/clients.js';
import { busFrom } from '../adapters/aws/events.js';
import { LeaseTable } from '../adapters/aws/lease-table.js';
import { SecretStore } from '../adapters/aws/secret-store.js';
import type { RotatorConfig } from '../domain/config/types.js';
import { asError, RotatorError } from '../domain/errors.js';
import type { Log } from '../domain/log.js';
import { readHidesNothing } from '../domain/rotation/upkeep/stale-readers.js';
import { atlasClient } from '../runtime.js';

/**
 * `atlas-x509-rotator doctor`: what a first deployment needs, checked read-only, one line each
 * with a remedy. Nothing is minted, written or leased. Exit 0 only when a real run would work:
 * `warn` lines are what a run can do without (events, reading rate limits), `fail` lines are not.
 */

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  remedy?: string;
  /** How far a failure reaches: a `run` one stops the checks that would only repeat it. */
  scope?: string;
}

const failed = (name: string, err: unknown, status: CheckStatus = 'fail'): CheckResult => {
  const e = asError(err);
  return e instanceof RotatorError
    ? { name, status, detail: e.message, remedy: e.remedy, scope: e.scope }
    : { name, status, detail: `${e.name}: ${e.message}` };
};

/** Runs `check`; a throw is its failure, with the error's own message and remedy. */
const attempt = async (
  name: string,
  check: () => Promise<Omit<CheckResult, 'name'>>,
  onError: (err: unknown) => CheckResult = (err) => failed(name, err),
): Promise<CheckResult> => {
  try {
    return { name, ...(await check()) };
  } catch (err) {
    return onError(err);
  }
};

const isDenied = (err: unknown): boolean =>
  err instanceof AtlasApiError && (err.status === 401 || err.status === 403 || err.status === 404);

/** The first user the config names in a project, for the certificate check. */
const firstUser = (config: RotatorConfig, projectId: string): string | undefined =>
  config.projects.find((p) => p.projectId === projectId)?.users[0]?.username;

const atlasChecks = async (
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
  if (results[0]?.status === 'fail' && results[0].scope === 'run') return results;
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
            }
          : { status: 'ok', detail: 'no customer CA' };
      },
      (err) =>
        isDenied(err)
          ? {
              ...failed(`customer X.509 (${projectId})`, err, 'warn'),
              detail:
                'userSecurity is not readable with this credential: a customer CA would only show when a mint is refused',
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
          };
        }
        return {
          status: 'ok',
          detail: `certificate bucket: capacity ${limit?.capacity?.value}, refill ${limit?.refillRate?.value} per ${limit?.refillDurationSeconds?.value} s, scope ${limit?.scope ?? '?'}: pacing starts from it`,
        };
      },
      (err) => ({
        ...failed(`rate limits (${projectId})`, err, 'warn'),
        detail: `/rateLimits is not readable (${err instanceof AtlasApiError ? err.errorCode : asError(err).name}): pacing starts from its defaults and follows Atlas's headers`,
      }),
    ),
  );
  return results;
};

const awsChecks = async (config: RotatorConfig, env: NodeJS.ProcessEnv): Promise<CheckResult[]> => {
  const prefix = config.defaults.secretNamePrefix;
  const leases = new LeaseTable(dynamoDb, {
    tableName: config.locks.tableName,
    leaseMs: config.locks.leaseSeconds * 1000,
    owner: 'doctor',
    now: () => new Date(),
  });
  const bus = busFrom(env);
  return [
    await attempt(`lease table ${config.locks.tableName}`, async () => {
      await leases.check();
      return { status: 'ok', detail: 'exists and is readable' };
    }),
    await attempt(`secrets under ${prefix}`, async () => {
      const index = await new SecretStore(secretsManager).index(prefix);
      const readable = [...index.values()].filter((s) => s.currentVersionId && !s.deletedDate);
      if (readable.length === 0) {
        return { status: 'ok', detail: `${index.size} secrets listed; none to read yet` };
      }
      // A read counts as an access (LastAccessedDate): doctor reads only a secret whose
      // stale-consumer signal the read cannot hide, and stays read-only (no own-access tag).
      const withValue = readable.find(readHidesNothing);
      if (!withValue) {
        return {
          status: 'ok',
          detail: `${index.size} secrets listed; none read: a read now could hide applications that have not reloaded (the next run's reads prove GetSecretValue and kms:Decrypt)`,
        };
      }
      // Reading a value proves both GetSecretValue and kms:Decrypt through Secrets Manager.
      await secretsManager.send(new GetSecretValueCommand({ SecretId: withValue.arn }));
      return {
        status: 'ok',
        detail: `${index.size} secrets listed; ${withValue.name} read and decrypted`,
      };
    }),
    await attempt(
      `event bus ${bus}`,
      async () => {
        await eventBridge.send(new DescribeEventBusCommand({ Name: bus }));
        return { status: 'ok', detail: 'exists' };
      },
      (err) => ({
        ...failed(`event bus ${bus}`, err, 'warn'),
        remedy:
          'Events are best effort: runs work without them. Check ROTATOR_EVENT_BUS and events:DescribeEventBus/PutEvents.',
      }),
    ),
  ];
};

export const runDoctor = async (options: {
  config: RotatorConfig;
  log: Log;
  env?: NodeJS.ProcessEnv;
}): Promise<CheckResult[]> => {
  const env = options.env ?? process.env;
  const { config } = options;
  const results: CheckResult[] = [];
  let atlas: AtlasClient | undefined;
  results.push(
    await attempt('Atlas credential', async () => {
      const connected = await atlasClient(
        options,
        config.atlas.credentialsSecretId,
        () => new Date(),
      );
      atlas = connected.atlas;
      const { credentials } = connected;
      return {
        status: 'ok',
        detail:
          credentials.kind === 'serviceAccount'
            ? `service account ${credentials.clientId} (a token is requested with the first call)`
            : `API key ${credentials.publicApiKey}`,
      };
    }),
  );
  if (atlas) {
    for (const project of config.projects) {
      const checks = await atlasChecks(config, atlas, project.projectId);
      results.push(...checks);
      if (checks.some((c) => c.status === 'fail' && c.scope === 'run')) break;
    }
  }
  results.push(...(await awsChecks(config, env)));
  return results;
};

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

export const formatChecks = (results: readonly CheckResult[]): string => {
  const lines = results.map(
    (r) =>
      `${MARK[r.status]}  ${r.name}: ${r.detail}${r.remedy && r.status !== 'ok' ? ` → ${r.remedy}` : ''}`,
  );
  const fails = results.filter((r) => r.status === 'fail').length;
  const warns = results.filter((r) => r.status === 'warn').length;
  lines.push(
    fails === 0
      ? `A real run would work${warns > 0 ? ` (${warns} warning${warns > 1 ? 's' : ''})` : ''}.`
      : `${fails} check${fails > 1 ? 's' : ''} failed: a real run would not work.`,
  );
  return `${lines.join('\n')}\n`;
};
