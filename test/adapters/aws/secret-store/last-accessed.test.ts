import { randomBytes } from 'node:crypto';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { OWN_ACCESS_TAG } from '../../../../functions/adapters/aws/secret-store/tags.js';
import { SecretStore } from '../../../../functions/adapters/aws/secret-store.js';
import { sm } from '../../../../tools/aws/seed.js';

/**
 * What moto_server models of LastAccessedDate, pinned so a moto upgrade that starts to model
 * it shows here: (5.2) ListSecrets and DescribeSecret always return it as null, and
 * GetSecretValue does not set it. Its mapping is pinned with SDK mocks (`tagging.test.ts`),
 * the staleness rule on the fakes (`test/domain/rotation/upkeep/stale-readers.test.ts`). The
 * own-access tag, which moto does model, round-trips here.
 */

const owner = { projectId: '5e2211c17a3e5a48f5497de3', username: 'app1', kmsKeyId: undefined };
const fresh = () => `la-${randomBytes(5).toString('hex')}/app1`;

describe('store: LastAccessedDate and the own-access tag (moto_server)', () => {
  it('moto returns no LastAccessedDate, even after a GetSecretValue; the index leaves it unset', async () => {
    const store = new SecretStore(sm());
    const state = await store.create(fresh(), owner);
    await store.put(state, '{"any":"value"}', '1976722359483124370');
    await sm().send(
      new GetSecretValueCommand({ SecretId: state.name, VersionStage: 'AWSCURRENT' }),
    );
    const described = await sm().send(new DescribeSecretCommand({ SecretId: state.name }));
    expect(described.LastAccessedDate).toBeUndefined();
    const listed = await sm().send(
      new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [state.name] }] }),
    );
    expect(listed.SecretList?.[0]?.LastAccessedDate).toBeUndefined();
    const index = await store.index(state.name);
    expect(index.get(state.name)?.lastAccessedDate).toBeUndefined();
  });

  it('writes the own-access tag with the expiry tag after a promotion, and the index reads it back', async () => {
    const store = new SecretStore(sm());
    const state = await store.create(fresh(), owner);
    const at = new Date('2026-12-07T04:10:00Z');
    expect(await store.tagNotAfter(state, new Date('2027-03-07T00:00:00Z'), undefined, at)).toBe(
      true,
    );
    const indexed = (await store.index(state.name)).get(state.name);
    expect(indexed?.ownAccess).toEqual(at);
    const read = await store.read(state.name, owner);
    expect(read?.ownAccess).toEqual(at);
    const described = await sm().send(new DescribeSecretCommand({ SecretId: state.name }));
    expect(described.Tags).toContainEqual({ Key: OWN_ACCESS_TAG, Value: at.toISOString() });
  });
});
