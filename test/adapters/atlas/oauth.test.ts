import { afterEach, describe, expect, it } from 'vitest';
import {
  AtlasApiError,
  AtlasAuthError,
  AtlasUnavailableError,
} from '../../../functions/adapters/atlas/errors.js';
import {
  apiError,
  certsPath,
  clientWith,
  GROUP,
  JSON_HEADERS,
  mockAtlas,
  rejectionOf,
  SA,
  TOKEN,
} from './helpers.js';

const TOKEN_PATH = '/api/oauth/token';
const tokenBody = (token: string, expiresIn = 3600) => ({
  access_token: token,
  token_type: 'Bearer',
  expires_in: expiresIn,
});
const EMPTY_PAGE = { results: [], totalCount: 0 };

describe('AtlasClient with a service account (OAuth)', () => {
  const { agent, pool } = mockAtlas();
  afterEach(() => agent.assertNoPendingInterceptors());

  it('fetches one token for many concurrent calls, with Basic client auth', async () => {
    // Prepare
    const basic = Buffer.from(`${SA.clientId}:${SA.clientSecret}`).toString('base64');
    pool
      .intercept({
        path: TOKEN_PATH,
        method: 'POST',
        body: 'grant_type=client_credentials',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
      })
      .reply(200, tokenBody(TOKEN))
      .delay(20);
    pool
      .intercept({
        path: certsPath(),
        method: 'GET',
        headers: { authorization: `Bearer ${TOKEN}` },
      })
      .reply(200, EMPTY_PAGE)
      .times(8);
    const client = clientWith(agent, { credentials: SA });

    // Act
    await Promise.all(Array.from({ length: 8 }, () => client.listCertificates(GROUP, 'user389')));

    // Assess
    expect(client.stats).toMatchObject({ tokenRequests: 1, requests: 8, authChallenges: 0 });
  });

  it('refreshes the token 60 s before it expires', async () => {
    // Prepare
    let now = 1_000_000;
    pool.intercept({ path: TOKEN_PATH, method: 'POST' }).reply(200, tokenBody('t1', 3600));
    pool.intercept({ path: TOKEN_PATH, method: 'POST' }).reply(200, tokenBody('t2', 3600));
    pool
      .intercept({ path: certsPath(), method: 'GET', headers: { authorization: 'Bearer t1' } })
      .reply(200, EMPTY_PAGE)
      .times(2);
    pool
      .intercept({ path: certsPath(), method: 'GET', headers: { authorization: 'Bearer t2' } })
      .reply(200, EMPTY_PAGE);
    const client = clientWith(agent, { credentials: SA, now: () => now });

    // Act
    await client.listCertificates(GROUP, 'user389');
    now += 3_539_000; // 1 s before the refresh point
    await client.listCertificates(GROUP, 'user389');
    now += 1_000;
    await client.listCertificates(GROUP, 'user389');

    // Assess
    expect(client.stats.tokenRequests).toBe(2);
  });

  it('throws AtlasAuthError at once when the token endpoint rejects the credentials', async () => {
    // Prepare: one 401 only; a retry would hit an unmatched interceptor.
    pool
      .intercept({ path: TOKEN_PATH, method: 'POST' })
      .reply(401, { error: 'invalid_client', error_description: 'bad' }, { headers: JSON_HEADERS });
    const client = clientWith(agent, { credentials: SA });

    // Act
    const errors = await Promise.all(
      Array.from({ length: 3 }, () => rejectionOf(client.listCertificates(GROUP, 'user389'))),
    );

    // Assess
    for (const error of errors) {
      expect(error).toBeInstanceOf(AtlasAuthError);
      expect(error).toMatchObject({ scope: 'run', code: 'ATLAS_CREDENTIALS_REJECTED' });
      expect((error as AtlasAuthError).remedy).toContain('MONGODB_ATLAS_CLIENT_SECRET');
    }
    expect(errors[0]?.message).toBe(
      'Atlas POST /api/oauth/token rejected the service account credentials: 401 invalid_client',
    );
    expect(client.stats).toMatchObject({ tokenRequests: 1, retries: 0, requests: 0 });
  });

  it('treats 400 from the token endpoint as rejected credentials too', async () => {
    pool.intercept({ path: TOKEN_PATH, method: 'POST' }).reply(400, 'bad request');

    const error = await rejectionOf(clientWith(agent, { credentials: SA }).getUserSecurity(GROUP));

    expect(error).toBeInstanceOf(AtlasAuthError);
  });

  it('retries the token request on 503 and 429, honouring Retry-After', async () => {
    pool.intercept({ path: TOKEN_PATH, method: 'POST' }).reply(503, 'busy');
    pool
      .intercept({ path: TOKEN_PATH, method: 'POST' })
      .reply(429, '{}', { headers: { 'retry-after': '0' } });
    pool.intercept({ path: TOKEN_PATH, method: 'POST' }).reply(200, tokenBody(TOKEN));
    pool.intercept({ path: certsPath(), method: 'GET' }).reply(200, EMPTY_PAGE);
    const client = clientWith(agent, { credentials: SA });

    await client.listCertificates(GROUP, 'user389');

    expect(client.stats).toMatchObject({ tokenRequests: 3, retries: 2 });
  });

  it('gives up on the token endpoint after the retries with AtlasUnavailableError', async () => {
    pool.intercept({ path: TOKEN_PATH, method: 'POST' }).reply(502, 'bad gateway').times(4);
    const client = clientWith(agent, { credentials: SA });

    const error = await rejectionOf(client.listCertificates(GROUP, 'user389'));

    expect(error).toBeInstanceOf(AtlasUnavailableError);
    expect(client.stats.tokenRequests).toBe(4);
  });

  it('refreshes the token once on an API 401 and succeeds', async () => {
    // Prepare
    pool.intercept({ path: TOKEN_PATH, method: 'POST' }).reply(200, tokenBody('revoked'));
    pool.intercept({ path: TOKEN_PATH, method: 'POST' }).reply(200, tokenBody('fresh'));
    pool
      .intercept({ path: certsPath(), method: 'GET', headers: { authorization: 'Bearer revoked' } })
      .reply(401, apiError(401, 'UNAUTHORIZED'), { headers: JSON_HEADERS });
    pool
      .intercept({ path: certsPath(), method: 'GET', headers: { authorization: 'Bearer fresh' } })
      .reply(200, EMPTY_PAGE);
    const client = clientWith(agent, { credentials: SA });

    // Act
    const certs = await client.listCertificates(GROUP, 'user389');

    // Assess
    expect(certs).toEqual([]);
    expect(client.stats).toMatchObject({ tokenRequests: 2, requests: 2, authChallenges: 1 });
  });

  it('throws AtlasAuthError when the API still says 401 with a fresh token', async () => {
    pool.intercept({ path: TOKEN_PATH, method: 'POST' }).reply(200, tokenBody('a'));
    pool.intercept({ path: TOKEN_PATH, method: 'POST' }).reply(200, tokenBody('b'));
    pool
      .intercept({ path: certsPath(), method: 'GET' })
      .reply(401, apiError(401, 'UNAUTHORIZED'), { headers: JSON_HEADERS })
      .times(2);

    const error = await rejectionOf(
      clientWith(agent, { credentials: SA }).listCertificates(GROUP, 'user389'),
    );

    expect(error).toBeInstanceOf(AtlasAuthError);
    expect(error.message).toBe(
      `Atlas GET /api/atlas/v2/groups/${GROUP}/databaseUsers/user389/certs rejected the service ` +
        'account credentials: 401 UNAUTHORIZED',
    );
  });

  it('does not refresh on 401 NOT_IN_GROUP: the project, not the credential, is the problem', async () => {
    pool.intercept({ path: TOKEN_PATH, method: 'POST' }).reply(200, tokenBody(TOKEN));
    pool
      .intercept({ path: certsPath(), method: 'GET' })
      .reply(401, apiError(401, 'NOT_IN_GROUP'), { headers: JSON_HEADERS });
    const client = clientWith(agent, { credentials: SA });

    const error = await rejectionOf(client.listCertificates(GROUP, 'user389'));

    expect(error).toBeInstanceOf(AtlasApiError);
    expect(error).toMatchObject({ scope: 'project', code: 'NOT_IN_GROUP' });
    expect(client.stats).toMatchObject({ tokenRequests: 1, authChallenges: 0 });
  });
});
