import { randomBytes } from 'node:crypto';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { SecretStore } from '../../../../functions/adapters/aws/secret-store.js';
import { secretExists, sm } from '../../../../tools/aws/seed.js';

const owner = { projectId: '5e2211c17a3e5a48f5497de3', username: 'app1', kmsKeyId: undefined };
const fresh = () => `rm-${randomBytes(5).toString('hex')}/app1`;

describe('store: removeEmpty (moto_server)', () => {
  it('deletes an empty secret it created at once: the name is free again', async () => {
    const store = new SecretStore(sm());
    const name = fresh();
    const state = await store.create(name, owner);

    await expect(store.removeEmpty(state)).resolves.toBe(true);

    await expect(sm().send(new DescribeSecretCommand({ SecretId: name }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    // No recovery window: a plain delete would refuse this create for 7 days.
    await expect(store.create(name, owner)).resolves.toMatchObject({ name });
  });

  it('keeps a secret that holds a version', async () => {
    const store = new SecretStore(sm());
    const state = await store.create(fresh(), owner);
    await store.put(state, '{"any":"value"}', '1976722359483124370');

    await expect(store.removeEmpty(state)).resolves.toBe(false);
    expect(await secretExists(state.name)).toBe(true);
  });

  it('keeps an empty secret it did not create (no managed-by tag)', async () => {
    const name = fresh();
    const created = await sm().send(new CreateSecretCommand({ Name: name }));
    const store = new SecretStore(sm());
    const state = {
      ...(await store.create(name, owner)),
      arn: created.ARN ?? name,
    };

    await expect(store.removeEmpty(state)).resolves.toBe(false);
    expect(await secretExists(name)).toBe(true);
  });

  it('says false for a secret that is already gone', async () => {
    const store = new SecretStore(sm());
    const state = await store.create(fresh(), owner);
    await store.removeEmpty(state);
    await expect(store.removeEmpty(state)).resolves.toBe(false);
  });
});
