import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AtlasCredentials } from '../../../functions/adapters/atlas/auth.js';
import { AtlasAuthError } from '../../../functions/adapters/atlas/errors.js';
import { CredentialsError } from '../../../functions/adapters/aws/credentials.js';
import {
  apiError,
  capturingLog,
  certsPath,
  clientWith,
  GROUP,
  JSON_HEADERS,
  loadRecorded,
  mockAtlas,
  rejectionOf,
  SA,
} from './helpers.js';

/**
 * Secrets Manager's managed rotation of the rotator's own service account: a new Atlas secret
 * is created, stored as AWSCURRENT, and the old one deleted, possibly while a run is under way.
 * The client then reads the credentials secret once more and carries on with the new value.
 */

const TOKEN_PATH = '/api/oauth/token';
const ROTATED_SECRET = 'mdb_sa_sk_ROTATEDsecretVALUE9876543210';
const ROTATED: AtlasCredentials = {
  kind: 'serviceAccount',
  clientId: SA.clientId,
  clientSecret: ROTATED_SECRET,
  orgId: '5f0123456789abcdef012345',
};
const basic = (c: { clientId: string; clientSecret: string }): string =>
  `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`;
const tokenBody = (token: string) => ({
  access_token: token,
  token_type: 'Bearer',
  expires_in: 3600,
});
const EMPTY_PAGE = { results: [], totalCount: 0 };
const INVALID_CLIENT = {
  error: 'invalid_client',
  error_description: 'Client authentication failed.',
};

describe('AtlasClient when its credential is rotated during a run', () => {
  const { agent, pool } = mockAtlas();
  afterEach(() => agent.assertNoPendingInterceptors());

  /** The token endpoint: `token` for `credential`, or invalid_client (the deleted old secret). */
  const tokenFor = (credential: { clientId: string; clientSecret: string }, token?: string) =>
    pool
      .intercept({
        path: TOKEN_PATH,
        method: 'POST',
        headers: { authorization: basic(credential) },
      })
      .reply(token ? 200 : 401, token ? tokenBody(token) : INVALID_CLIENT, {
        headers: JSON_HEADERS,
      });
  const listWith = (token: string, status = 200, times = 1) =>
    pool
      .intercept({
        path: certsPath(),
        method: 'GET',
        headers: { authorization: `Bearer ${token}` },
      })
      .reply(status, status === 200 ? EMPTY_PAGE : apiError(401, 'UNAUTHORIZED'), {
        headers: JSON_HEADERS,
      })
      .times(times);

  it('reads the secret once more for every request rejected meanwhile and goes on with the new value', async () => {
    // Prepare: one call works with the first token; then the old secret is gone: its token is
    // refused and a new one cannot be had with it.
    tokenFor(SA, 'old-token');
    listWith('old-token');
    listWith('old-token', 401, 4);
    tokenFor(SA);
    tokenFor(ROTATED, 'new-token');
    listWith('new-token', 200, 4);
    const reread = vi.fn(async () => ROTATED);
    const { log, lines } = capturingLog();
    const client = clientWith(agent, { credentials: SA, rereadCredentials: reread, log });
    await client.listCertificates(GROUP, 'user389');

    // Act: four workers in flight when the rotation lands.
    const pages = await Promise.all(
      Array.from({ length: 4 }, () => client.listCertificates(GROUP, 'user389')),
    );

    // Assess
    expect(pages).toEqual([[], [], [], []]);
    expect(reread).toHaveBeenCalledTimes(1);
    expect(client.credentials).toEqual(ROTATED);
    expect(client.stats).toMatchObject({ tokenRequests: 3, requests: 9 });
    expect(lines.join('\n')).toContain('the secret holds a new one');
    expect(lines.join('\n')).not.toContain(ROTATED_SECRET);
  });

  it('sends a create Atlas refused with 401 again with the new credential: nothing was minted', async () => {
    // Prepare
    const create = loadRecorded('create-cert.http');
    const path = certsPath('user389', '');
    tokenFor(SA);
    tokenFor(ROTATED, 'new-token');
    pool
      .intercept({ path, method: 'POST', headers: { authorization: 'Bearer new-token' } })
      .reply(create.status, create.body, { headers: create.headers });
    const client = clientWith(agent, { credentials: SA, rereadCredentials: async () => ROTATED });

    // Act
    const pem = await client.createCertificate(GROUP, 'user389', 3);

    // Assess: one create reached Atlas.
    expect(pem).toBe(create.body);
    expect(client.stats).toMatchObject({ requests: 1, tokenRequests: 2 });
  });

  it('fails as before when the secret still holds the rejected value, reading it only once', async () => {
    // Prepare
    tokenFor(SA);
    const reread = vi.fn(async (): Promise<AtlasCredentials> => ({ ...SA }));
    const client = clientWith(agent, { credentials: SA, rereadCredentials: reread });

    // Act
    const first = await rejectionOf(client.listCertificates(GROUP, 'user389'));
    const later = await rejectionOf(client.listCertificates(GROUP, 'user389'));

    // Assess
    for (const error of [first, later]) {
      expect(error).toBeInstanceOf(AtlasAuthError);
      expect(error).toMatchObject({ code: 'ATLAS_CREDENTIALS_REJECTED', scope: 'run' });
    }
    expect(reread).toHaveBeenCalledTimes(1);
    expect(client.stats.tokenRequests).toBe(1);
  });

  it('fails with the rejection when the secret cannot be read again, logging only the error code', async () => {
    // Prepare
    tokenFor(SA);
    const { log, lines } = capturingLog();
    const client = clientWith(agent, {
      credentials: SA,
      log,
      rereadCredentials: async () => {
        throw new CredentialsError('The Atlas credentials secret x is empty', 'put it');
      },
    });

    // Act
    const error = await rejectionOf(client.listCertificates(GROUP, 'user389'));

    // Assess
    expect(error).toMatchObject({ code: 'ATLAS_CREDENTIALS_REJECTED' });
    expect(lines.join('\n')).toContain('ATLAS_CREDENTIALS_MISSING');
    expect(lines.join('\n')).not.toContain(SA.clientSecret);
  });

  it('reads nothing again without a way to (a credential from the environment)', async () => {
    tokenFor(SA);
    const client = clientWith(agent, { credentials: SA });

    const error = await rejectionOf(client.listCertificates(GROUP, 'user389'));

    expect(error).toBeInstanceOf(AtlasAuthError);
    expect(client.credentials).toBe(SA);
  });
});
