import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { secretsManager, secretsManagerKeyWrites } from '../../functions/adapters/aws/clients.js';
import { REPLICAS_TAG } from '../../functions/adapters/aws/secret-store/tags.js';
import { ConfigError } from '../../functions/domain/config/errors.js';
import type { RawConfig } from '../../functions/domain/config/schema.js';
import { DAY_MS } from '../../functions/domain/renewal.js';
import { replicaChecksOn } from '../../functions/domain/rotation/upkeep/replication.js';
import { sm } from '../../tools/aws/seed.js';
import { Harness, P1, rowOf } from '../support/harness.js';

// moto_server replicates values (a replica is a view of its primary) and reports
// ReplicationStatus; it ignores replica keys (those are pinned with the SDK mock).

let h: Harness;
const sent: string[] = [];
const COUNTER = 'replicas-e2e-request-count';

beforeEach(async () => {
  h = await Harness.start();
  sent.length = 0;
  // Every Secrets Manager request the run makes, through either of its clients.
  for (const client of [secretsManager, secretsManagerKeyWrites]) {
    client.middlewareStack.add(
      (next, context) => (args) => {
        sent.push(String(context.commandName).replace(/Command$/, ''));
        return next(args);
      },
      { step: 'initialize', name: COUNTER },
    );
  }
});
afterEach(async () => {
  for (const client of [secretsManager, secretsManagerKeyWrites]) {
    client.middlewareStack.remove(COUNTER);
  }
  await h.close();
});

/** The requests of one run. */
const requestsOf = async <T>(run: () => Promise<T>): Promise<{ result: T; requests: string[] }> => {
  const from = sent.length;
  const result = await run();
  return { result, requests: sent.slice(from) };
};

/** The certificate serial a replica (or the primary) serves under `stage`, read in its Region. */
const servedIn = async (region: string, arn: string, stage = 'AWSCURRENT'): Promise<string> => {
  const got = await new SecretsManagerClient({ region }).send(
    new GetSecretValueCommand({ SecretId: arn, VersionStage: stage }),
  );
  return JSON.parse(got.SecretString ?? '{}').serialNumber;
};

const replicasTag = async (name: string) =>
  (await sm().send(new DescribeSecretCommand({ SecretId: name }))).Tags?.find(
    (t) => t.Key === REPLICAS_TAG,
  )?.Value;

/** A clock on a day none of `names` has its rolling check, so counts do not depend on the date. */
const offCheckDay = (names: string[]): (() => Date) => {
  let day = Math.floor(Date.now() / DAY_MS);
  while (replicaChecksOn(names, day).size > 0) day++;
  const offset = day * DAY_MS - Math.floor(Date.now() / DAY_MS) * DAY_MS;
  return () => new Date(Date.now() + offset);
};

const withReplicas = (
  replicaRegions: NonNullable<NonNullable<RawConfig['defaults']>['replicaRegions']>,
  users: string[],
): RawConfig =>
  h.config({
    defaults: { secretNamePrefix: h.prefix, replicaRegions },
    projects: [{ projectId: P1, users }],
  });

describe('replica Regions end to end (simulator + moto_server)', () => {
  it('creates secrets with their replicas, keeps them in sync through a renewal, then costs one ListSecrets', async () => {
    h.sim.addUser(P1, 'app1');
    const name = h.secretName(P1, 'app1');
    const config = withReplicas(
      ['eu-west-1', { region: 'us-west-2', kmsKeyId: 'alias/x' }],
      ['app1'],
    );
    const now = offCheckDay([name]);

    const first = await requestsOf(() => h.run(config, {}, { now }));
    const row = rowOf(first.result, 'app1');
    expect(row.action).toBe('rotated');
    expect(first.requests).toEqual([
      'ListSecrets',
      'CreateSecret',
      'PutSecretValue',
      'TagResource',
    ]);
    const arnIn = (region: string) => row.secretArn?.replace(':us-east-1:', `:${region}:`) ?? '';
    expect(row.replicaArns).toEqual([arnIn('eu-west-1'), arnIn('us-west-2')]);
    for (const region of ['eu-west-1', 'us-west-2']) {
      expect(await servedIn(region, arnIn(region))).toBe(row.serialNumber);
    }
    const described = await sm().send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.ReplicationStatus?.map((r) => [r.Region, r.Status])).toEqual([
      ['eu-west-1', 'InSync'],
      ['us-west-2', 'InSync'],
    ]);

    // The next run checks the new secret's replicas once and records that they are in sync.
    const checked = await requestsOf(() => h.run(config, {}, { now }));
    expect(rowOf(checked.result, 'app1')).toMatchObject({ action: 'skipped' });
    expect(rowOf(checked.result, 'app1').drift).toBeUndefined();
    expect(checked.requests).toEqual(['ListSecrets', 'DescribeSecret', 'TagResource']);
    expect(await replicasTag(name)).toMatch(/^eu-west-1 us-west-2 @[0-9a-f]{12}$/);

    // A renewal: every replica serves the new certificate, the old one as AWSPREVIOUS.
    const renewed = rowOf(
      await h.run(config, { force: true, only: [{ projectId: P1, username: 'app1' }] }, { now }),
      'app1',
    );
    expect(renewed.action).toBe('rotated');
    expect(renewed.serialNumber).not.toBe(row.serialNumber);
    expect(renewed.replicaArns).toEqual(row.replicaArns);
    for (const region of ['eu-west-1', 'us-west-2']) {
      expect(await servedIn(region, arnIn(region))).toBe(renewed.serialNumber);
      expect(await servedIn(region, arnIn(region), 'AWSPREVIOUS')).toBe(row.serialNumber);
    }

    // The run after it checks the copy once; from then on a run is one ListSecrets.
    const after = await requestsOf(() => h.run(config, {}, { now }));
    expect(after.requests).toEqual(['ListSecrets', 'DescribeSecret', 'TagResource']);
    const steady = await requestsOf(() => h.run(config, {}, { now }));
    expect(steady.requests).toEqual(['ListSecrets']);
    expect(rowOf(steady.result, 'app1')).toMatchObject({
      action: 'skipped',
      replicaArns: row.replicaArns,
    });
  });

  it('replicates existing secrets to a Region added later, then to another, never twice', async () => {
    const users = ['a', 'b', 'c'];
    for (const u of users) h.sim.addUser(P1, u);
    const names = users.map((u) => h.secretName(P1, u));
    const now = offCheckDay(names);
    const first = await h.run(withReplicas([], users), {}, { now });
    expect(first.summary).toMatchObject({ rotated: 3 });
    expect(first.users.every((r) => r.replicaArns === undefined)).toBe(true);

    const added = await requestsOf(() => h.run(withReplicas(['eu-west-1'], users), {}, { now }));
    expect(added.result.summary).toMatchObject({ skipped: 3, failed: 0 });
    for (const u of users) {
      const r = rowOf(added.result, u);
      expect(r.drift).toEqual([
        { what: 'replicas', found: 'not yet replicated to eu-west-1', repaired: true },
      ]);
      const replica = r.secretArn?.replace(':us-east-1:', ':eu-west-1:') ?? '';
      expect(r.replicaArns).toEqual([replica]);
      expect(await servedIn('eu-west-1', replica)).toBe(r.serialNumber);
    }
    // Per secret: one status read, one ReplicateSecretToRegions, one tag write.
    expect(added.requests.filter((r) => r === 'ReplicateSecretToRegions')).toHaveLength(3);
    expect(added.requests.filter((r) => r === 'DescribeSecret')).toHaveLength(3);
    expect(added.requests.filter((r) => r === 'TagResource')).toHaveLength(3);

    const more = await requestsOf(() =>
      h.run(withReplicas(['eu-west-1', 'ap-south-1'], users), {}, { now }),
    );
    expect(more.result.summary).toMatchObject({ skipped: 3, failed: 0 });
    const status = await sm().send(new DescribeSecretCommand({ SecretId: names[0] }));
    // Had eu-west-1 been asked for again, moto would list a second, failed, eu-west-1 replica.
    expect(status.ReplicationStatus?.map((r) => [r.Region, r.Status])).toEqual([
      ['eu-west-1', 'InSync'],
      ['ap-south-1', 'InSync'],
    ]);
    const steady = await requestsOf(() =>
      h.run(withReplicas(['eu-west-1', 'ap-south-1'], users), {}, { now }),
    );
    expect(steady.requests).toEqual(['ListSecrets']);
  });

  it('refuses the primary Region as a replica before any request', async () => {
    h.sim.addUser(P1, 'app1');
    const refused = await h
      .run(withReplicas(['eu-west-1', 'us-east-1'], ['app1']))
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).issues).toEqual([
      'defaults.replicaRegions[1]: us-east-1 is the primary Region (where the rotator runs and the secrets live); list only other Regions',
    ]);
    expect(sent).toEqual([]);
    expect(h.sim.requests).toHaveLength(0);
  });
});
