import { DescribeEventBusCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { lookUpKey } from '../../adapters/aws/account.js';
import { dynamoDb, eventBridge, secretsManager } from '../../adapters/aws/clients.js';
import { busFrom } from '../../adapters/aws/events.js';
import { LeaseTable } from '../../adapters/aws/lease-table.js';
import { runWideError } from '../../adapters/aws/run-wide.js';
import { SecretStore } from '../../adapters/aws/secret-store.js';
import type { RotatorConfig } from '../../domain/config/types.js';
import { asError } from '../../domain/errors.js';
import { readHidesNothing } from '../../domain/rotation/upkeep/stale-readers.js';
import { attempt, type CheckResult, failed } from './findings.js';
import type { Whereabouts } from './where.js';

/** The AWS side of `doctor`: the lease table, the KMS keys, the secrets and the event bus. */

/** "in us-west-2 (account 123456789012)": where a thing was looked for. */
const inPlace = (where: Whereabouts): string =>
  `in ${where.region ?? 'no Region'}${where.account ? ` (account ${where.account})` : ''}`;

/** A thing not found may be in another Region: the remedy says which Region was looked at. */
const regionHint = (where: Whereabouts): string =>
  `doctor looked ${inPlace(where)}: if the stack is deployed in another Region, set AWS_REGION to that Region`;

/** Every KMS key a first mint would create a secret with: the defaults' and each user's. */
export const configuredKeys = (config: RotatorConfig): string[] => [
  ...new Set(
    [config.defaults.kmsKeyId, ...config.projects.flatMap((p) => p.users.map((u) => u.kmsKeyId))]
      // A key ARN names its own Region; an id or alias is looked up in the Region in use.
      .filter((k): k is string => k !== undefined),
  ),
];

export const keyCheckName = (keyId: string): string => `KMS key ${keyId}`;

export const keyCheck = (keyId: string, where: Whereabouts): Promise<CheckResult> =>
  attempt(
    keyCheckName(keyId),
    async () => {
      const key = await lookUpKey(keyId);
      if (!key.found) {
        return {
          status: 'fail',
          detail: `does not exist ${inPlace(where)}: a first mint would create its secret with it, and storing the certificate would fail`,
          remedy: `${regionHint(where)}; otherwise fix kmsKeyId in the config (the construct creates the alias the config names).`,
          code: 'KMS_ACCESS_DENIED',
        };
      }
      if (key.state && key.state !== 'Enabled') {
        return {
          status: 'fail',
          detail: `${key.keyArn ?? keyId} is ${key.state}: Secrets Manager cannot encrypt with it`,
          remedy: 'Enable the key (or cancel its deletion), or configure another kmsKeyId.',
          code: 'KMS_ACCESS_DENIED',
        };
      }
      return { status: 'ok', detail: `resolves to ${key.keyArn ?? keyId} (${key.state ?? '?'})` };
    },
    (err) => {
      const shared = runWideError(err, { service: 'KMS', action: 'DescribeKey' });
      // The run's role needs no kms:DescribeKey: a refusal only means doctor cannot tell.
      return {
        ...failed(keyCheckName(keyId), shared ?? err, shared ? 'fail' : 'warn'),
        ...(shared
          ? {}
          : {
              detail: `cannot tell whether it exists ${inPlace(where)} (${asError(err).name})`,
              remedy:
                'Allow kms:DescribeKey to whoever runs doctor, or check the key in the KMS console.',
            }),
      };
    },
  );

export const awsChecks = async (
  config: RotatorConfig,
  env: NodeJS.ProcessEnv,
  where: Whereabouts,
): Promise<CheckResult[]> => {
  const prefix = config.defaults.secretNamePrefix;
  const leases = new LeaseTable(dynamoDb, {
    tableName: config.locks.tableName,
    leaseMs: config.locks.leaseSeconds * 1000,
    owner: 'doctor',
    now: () => new Date(),
  });
  const bus = busFrom(env);
  const results: CheckResult[] = [
    await attempt(
      `lease table ${config.locks.tableName}`,
      async () => {
        await leases.check();
        return { status: 'ok', detail: `exists ${inPlace(where)} and is readable` };
      },
      (err) => {
        const result = failed(`lease table ${config.locks.tableName}`, err);
        return result.code === 'LEASE_TABLE_MISSING'
          ? {
              ...result,
              detail: `${result.detail} ${inPlace(where)}: every due user of a run would fail`,
              remedy: `${regionHint(where)}. Otherwise: ${result.remedy}`,
            }
          : result;
      },
    ),
  ];
  for (const keyId of configuredKeys(config)) results.push(await keyCheck(keyId, where));
  results.push(
    await attempt(`secrets under ${prefix}`, async () => {
      const index = await new SecretStore(secretsManager).index(prefix);
      const readable = [...index.values()].filter((s) => s.currentVersionId && !s.deletedDate);
      if (readable.length === 0) {
        return {
          status: 'ok',
          detail: `${index.size} secrets listed ${inPlace(where)}; none to read yet`,
        };
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
  );
  return results;
};
