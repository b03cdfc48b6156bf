import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { digestResponse, parseDigestChallenge } from '../../../functions/adapters/atlas/digest.js';
import { AtlasAuthError } from '../../../functions/adapters/atlas/errors.js';
import {
  API_KEY,
  certsPath,
  clientWith,
  GROUP,
  JSON_HEADERS,
  loadRecorded,
  mockAtlas,
  ORIGIN,
  rejectionOf,
} from './helpers.js';

const ATLAS_CHALLENGE = (nonce: string, stale = false): string =>
  `Digest realm="MMS Public API", domain="", nonce="${nonce}", algorithm=MD5, qop="auth", stale=${stale}`;

const challengeReply = (nonce: string, stale = false) => ({
  statusCode: 401,
  data: JSON.stringify({
    error: 401,
    errorCode: 'UNAUTHORIZED',
    detail: 'unauthorized',
    reason: 'Unauthorized',
  }),
  responseOptions: {
    headers: { ...JSON_HEADERS, 'www-authenticate': ATLAS_CHALLENGE(nonce, stale) },
  },
});

/** Parses `Digest k="v", k=v` back into a map, to check what the client sent. */
const paramsOf = (header: string): Record<string, string> =>
  Object.fromEntries(
    [...header.slice(7).matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)].map((m) => [
      m[1],
      m[2] ?? m[3],
    ]),
  );

/** Recomputes the response the server expects for a header the client sent. */
const expectedResponse = (p: Record<string, string>, method: string, password: string): string => {
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const ha1 = md5(`${p.username}:${p.realm}:${password}`);
  const ha2 = md5(`${method}:${p.uri}`);
  return md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`);
};

const headerOf = (opts: { headers?: unknown }): string | undefined =>
  (opts.headers as Record<string, string> | undefined)?.authorization;

describe('digestResponse', () => {
  it('matches the RFC 2617 "Mufasa" example', () => {
    expect(
      digestResponse({
        username: 'Mufasa',
        password: 'Circle Of Life',
        realm: 'testrealm@host.com',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        uri: '/dir/index.html',
        method: 'GET',
        algorithm: 'MD5',
        qop: 'auth',
        nc: '00000001',
        cnonce: '0a4f113b',
      }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });
});

describe('parseDigestChallenge', () => {
  it("reads Atlas's challenge", () => {
    expect(parseDigestChallenge(ATLAS_CHALLENGE('ab+c/d==', true))).toEqual({
      realm: 'MMS Public API',
      nonce: 'ab+c/d==',
      opaque: undefined,
      algorithm: 'MD5',
      qop: 'auth',
      stale: true,
    });
  });

  it('picks the Digest challenge among several and unescapes quoted values', () => {
    const challenge = parseDigestChallenge([
      'Bearer realm="x"',
      'Digest realm="a \\"b\\", c", nonce="n1", qop="auth-int,auth", opaque="o"',
    ]);
    expect(challenge).toMatchObject({ realm: 'a "b", c', nonce: 'n1', qop: 'auth', opaque: 'o' });
  });

  it('refuses what it cannot answer', () => {
    expect(parseDigestChallenge(undefined)).toBeUndefined();
    expect(parseDigestChallenge('Basic realm="x"')).toBeUndefined();
    expect(parseDigestChallenge('Digest realm="x", nonce="n", qop="auth-int"')).toBeUndefined();
    expect(
      parseDigestChallenge('Digest realm="x", nonce="n", algorithm=SHA-512-256'),
    ).toBeUndefined();
  });
});

describe('AtlasClient with an API key (Digest)', () => {
  const { agent, pool } = mockAtlas();
  afterEach(() => agent.assertNoPendingInterceptors());

  it('answers the challenge, then reuses the nonce with nc+1', async () => {
    // Prepare
    const list = loadRecorded('list-certs.http');
    const sent: (string | undefined)[] = [];
    pool.intercept({ path: certsPath(), method: 'GET' }).reply((opts) => {
      sent.push(headerOf(opts));
      return challengeReply('nonce1');
    });
    pool
      .intercept({ path: certsPath(), method: 'GET' })
      .reply((opts) => {
        sent.push(headerOf(opts));
        return { statusCode: 200, data: list.body, responseOptions: { headers: list.headers } };
      })
      .times(2);
    const client = clientWith(agent);

    // Act
    await client.listCertificates(GROUP, 'user389');
    const certs = await client.listCertificates(GROUP, 'user389');

    // Assess
    expect(certs).toHaveLength(2);
    expect(sent[0]).toBeUndefined();
    const first = paramsOf(sent[1] ?? '');
    const second = paramsOf(sent[2] ?? '');
    expect(first).toMatchObject({
      username: API_KEY.publicApiKey,
      realm: 'MMS Public API',
      nonce: 'nonce1',
      uri: certsPath(),
      algorithm: 'MD5',
      qop: 'auth',
      nc: '00000001',
    });
    expect(first.cnonce).toMatch(/^[0-9a-f]{32}$/);
    expect(first.response).toBe(expectedResponse(first, 'GET', API_KEY.privateApiKey));
    expect(second).toMatchObject({ nonce: 'nonce1', nc: '00000002' });
    expect(second.cnonce).not.toBe(first.cnonce);
    expect(second.response).toBe(expectedResponse(second, 'GET', API_KEY.privateApiKey));
    expect(client.stats).toMatchObject({ requests: 3, authChallenges: 1, tokenRequests: 0 });
  });

  it('signs the full request path when the base URL has a path (a proxy in front of Atlas)', async () => {
    const prefixed = `/atlas-proxy${certsPath()}`;
    const list = loadRecorded('list-certs.http');
    const sent: (string | undefined)[] = [];
    pool.intercept({ path: prefixed, method: 'GET' }).reply(() => challengeReply('n-prefix'));
    pool.intercept({ path: prefixed, method: 'GET' }).reply((opts) => {
      sent.push(headerOf(opts));
      return { statusCode: 200, data: list.body, responseOptions: { headers: list.headers } };
    });
    const client = clientWith(agent, { baseUrl: `${ORIGIN}/atlas-proxy/` });

    await client.listCertificates(GROUP, 'user389');

    const params = paramsOf(sent[0] ?? '');
    expect(params.uri).toBe(prefixed);
    expect(params.response).toBe(expectedResponse(params, 'GET', API_KEY.privateApiKey));
  });

  it('answers a stale challenge to a reused nonce once more', async () => {
    // Prepare
    const sent: (string | undefined)[] = [];
    const path = `/api/atlas/v2/groups/${GROUP}/userSecurity`;
    pool.intercept({ path, method: 'GET' }).reply(() => challengeReply('n1'));
    pool.intercept({ path, method: 'GET' }).reply(200, { customerX509: {} }).times(1);
    pool.intercept({ path, method: 'GET' }).reply((opts) => {
      sent.push(headerOf(opts));
      return challengeReply('n2', true);
    });
    pool.intercept({ path, method: 'GET' }).reply((opts) => {
      sent.push(headerOf(opts));
      return { statusCode: 200, data: JSON.stringify({ customerX509: {} }) };
    });
    const client = clientWith(agent);
    await client.getUserSecurity(GROUP);

    // Act
    const security = await client.getUserSecurity(GROUP);

    // Assess
    expect(security.customerX509).toEqual({});
    expect(paramsOf(sent[0] ?? '')).toMatchObject({ nonce: 'n1', nc: '00000002' });
    expect(paramsOf(sent[1] ?? '')).toMatchObject({ nonce: 'n2', nc: '00000001' });
    expect(client.stats.authChallenges).toBe(2);
  });

  it('answers stale challenges with the nonce each one brings, at most three times', async () => {
    const sent: (string | undefined)[] = [];
    pool.intercept({ path: certsPath(), method: 'GET' }).reply(() => challengeReply('s0'));
    for (const nonce of ['s1', 's2', 's3', 's4']) {
      pool.intercept({ path: certsPath(), method: 'GET' }).reply((opts) => {
        sent.push(headerOf(opts));
        return challengeReply(nonce, true);
      });
    }
    const client = clientWith(agent);

    const error = await rejectionOf(client.listCertificates(GROUP, 'user389'));

    // A stale answer proves the key right, yet a server that never accepts a nonce must not
    // keep the run looping: the fourth stale ends it as a credential failure.
    expect(error).toMatchObject({ code: 'ATLAS_CREDENTIALS_REJECTED' });
    expect(sent.map((h) => paramsOf(h ?? '').nonce)).toEqual(['s0', 's1', 's2', 's3']);
    expect(sent.map((h) => paramsOf(h ?? '').nc)).toEqual(Array(4).fill('00000001'));
    expect(client.stats.requests).toBe(5);
  });

  it('sends the body again when answering the challenge of a POST', async () => {
    const create = loadRecorded('create-cert.http');
    const bodies: unknown[] = [];
    pool.intercept({ path: certsPath('user389', ''), method: 'POST' }).reply((opts) => {
      bodies.push(opts.body);
      return challengeReply('n3');
    });
    pool.intercept({ path: certsPath('user389', ''), method: 'POST' }).reply((opts) => {
      bodies.push(opts.body);
      return { statusCode: 201, data: create.body, responseOptions: { headers: create.headers } };
    });

    const pem = await clientWith(agent).createCertificate(GROUP, 'user389', 3);

    expect(pem).toBe(create.body);
    expect(bodies).toEqual(['{"monthsUntilExpiration":3}', '{"monthsUntilExpiration":3}']);
  });

  it('throws AtlasAuthError when the answer to a fresh challenge is refused (wrong key)', async () => {
    pool.intercept({ path: certsPath(), method: 'GET' }).reply(() => challengeReply('n4'));
    pool.intercept({ path: certsPath(), method: 'GET' }).reply(() => challengeReply('n5'));
    const client = clientWith(agent, {
      credentials: { ...API_KEY, privateApiKey: 'wrong-private-key' },
    });

    const error = await rejectionOf(client.listCertificates(GROUP, 'user389'));

    expect(error).toBeInstanceOf(AtlasAuthError);
    expect(error).toMatchObject({ scope: 'run', code: 'ATLAS_CREDENTIALS_REJECTED' });
    expect((error as AtlasAuthError).remedy).toContain('MONGODB_ATLAS_PRIVATE_API_KEY');
    expect(client.stats.requests).toBe(2);
  });

  it('throws AtlasAuthError on a 401 without a Digest challenge', async () => {
    pool
      .intercept({ path: certsPath(), method: 'GET' })
      .reply(401, { error: 401, errorCode: 'UNAUTHORIZED' }, { headers: JSON_HEADERS });

    const error = await rejectionOf(clientWith(agent).listCertificates(GROUP, 'user389'));

    expect(error).toBeInstanceOf(AtlasAuthError);
  });
});
