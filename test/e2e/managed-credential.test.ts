import { randomBytes } from 'node:crypto';
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sm } from '../../tools/aws/seed.js';
import { importHandlerBundle } from '../support/bundles.js';
import { Harness, P1 } from '../support/harness.js';

/**
 * The rotator's own credential as Secrets Manager's managed rotation keeps it (type
 * `MongoDBAtlasServiceAccount`: `{clientId, clientSecret, orgId}`), through the shipped handler
 * bundle on the simulator and moto_server. One warm container serves both invocations, so
 * nothing read by the first may linger into the second.
 */

const ORG = '5f0123456789abcdef012345';
const DAY_MS = 86_400_000;

let h: Harness;
let secretId: string;
beforeEach(async () => {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true); // the EMF lines
  h = await Harness.start();
  h.sim.addUser(P1, 'app1');
  secretId = `atlas-api-${randomBytes(4).toString('hex')}`;
  const config = h.config({ projects: [{ projectId: P1, users: ['app1'] }] });
  const path = await h.writeConfig({
    ...config,
    atlas: { ...config.atlas, credentialsSecretId: secretId },
  });
  vi.stubEnv('ROTATOR_CONFIG_PATH', path);
  // No MONGODB_ATLAS_* variables: the credential comes from the secret, as in Lambda.
  vi.resetModules();
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await h.close();
});

const context = (): Context =>
  ({
    awsRequestId: `req-${randomBytes(3).toString('hex')}`,
    functionName: 'rotate',
    getRemainingTimeInMillis: () => 300_000,
  }) as unknown as Context;

type RotateModule = typeof import('../../functions/rotate/handler.js');
const managedValue = (clientSecret: string): string =>
  JSON.stringify({ clientId: h.clientId, clientSecret, orgId: ORG });

describe('a managed credentials secret', () => {
  it('keeps working when the value is rotated between two runs of one container', async () => {
    // Prepare
    await sm().send(
      new CreateSecretCommand({ Name: secretId, SecretString: managedValue(h.clientSecret) }),
    );
    const { handler } = await importHandlerBundle<RotateModule>('rotate');
    const first = await handler({}, context());
    expect(first.error).toBeUndefined();
    expect(first.users[0]).toMatchObject({ action: 'rotated' });

    // Act: what a managed rotation does — a new Atlas secret, stored as AWSCURRENT, the old one
    // deleted (its tokens with it).
    const rotated = `mdb_sa_sk_${randomBytes(16).toString('hex')}`;
    const expiresAt = new Date(Date.now() + 200 * DAY_MS);
    h.sim.addServiceAccount(h.clientId, rotated, { secretExpiresAt: expiresAt });
    h.sim.revokeAllTokens();
    await sm().send(
      new PutSecretValueCommand({ SecretId: secretId, SecretString: managedValue(rotated) }),
    );
    const second = await handler({}, context());

    // Assess: the second run read the new value up front (no rejected token request, so not by
    // the re-read after a rejection), and the secret's orgId (the config names none) let it
    // read the new secret's expiry.
    expect(second.error).toBeUndefined();
    const tokens = h.sim.requests.filter((r) => r.path === '/api/oauth/token');
    expect(tokens.map((r) => r.status)).toEqual([200, 200]);
    expect(second.users[0]).toMatchObject({ action: 'skipped' });
    expect(second.credential).toMatchObject({
      clientId: h.clientId,
      secretExpiresAt: expiresAt.toISOString(),
    });
    expect(first.credential?.secretExpiresAt).not.toBe(expiresAt.toISOString());
    expect(JSON.stringify([first, second])).not.toContain(rotated);
  });

  it('fails the invocation with what to put while the secret is still empty', async () => {
    await sm().send(new CreateSecretCommand({ Name: secretId, SecretString: '{}' }));
    const { handler } = await importHandlerBundle<RotateModule>('rotate');

    const error = await handler({}, context()).catch((e: unknown) => e);

    // A thrown invocation: Lambda counts an error (RotateFunctionErrors) and sends the
    // scheduled event to the failure queue (FailureQueueNotEmpty).
    expect(error).toMatchObject({
      code: 'ATLAS_CREDENTIALS_MISSING',
      message: `The Atlas credentials secret ${secretId} is empty ({}): no credential was put in it yet`,
      remedy: expect.stringContaining('"orgId"'),
    });
    expect(h.sim.requests).toHaveLength(0);
  });
});
