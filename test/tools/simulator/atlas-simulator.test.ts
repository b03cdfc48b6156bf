// @peculiar/x509 needs Reflect metadata before it loads (see reflect-metadata-shim.ts).
import '../../../tools/simulator/reflect-metadata-shim.js';

import { createHash, createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AtlasSimulator,
  DEFAULT_BEHAVIOUR,
  type FaultAction,
  type MissingUserErrorCode,
} from '../../../tools/simulator/atlas-simulator.js';
import {
  digestResponse,
  md5Hex,
  parseDigestAuthorization,
} from '../../../tools/simulator/digest.js';
import {
  addCalendarMonths,
  escapeRfc4514,
  randomObjectId,
  randomSerial,
} from '../../../tools/simulator/pki.js';

const ACCEPT = 'application/vnd.atlas.2023-01-01+json';
const CONTENT_TYPE = 'application/vnd.atlas.2023-01-01+json;charset=utf-8';
const CLIENT_ID = 'mdb_sa_id_test';
const CLIENT_SECRET = `mdb_sa_sk_${randomBytes(16).toString('hex')}`;
const PUBLIC_KEY = 'abcdefgh';
const PRIVATE_KEY = randomBytes(16).toString('hex');
const TWO_POW_53 = 2n ** 53n;
const TWO_POW_63 = 2n ** 63n;

// --- A shared simulator with a test-controlled clock ---------------------------------------------

let fixedNow: number | undefined;
let offsetMs = 0;
const now = (): Date => new Date((fixedNow ?? Date.now()) + offsetMs);
const setClock = (iso: string): void => {
  fixedNow = Date.parse(iso);
  offsetMs = 0;
};
const advance = (ms: number): void => {
  offsetMs += ms;
};

let sim: AtlasSimulator;
let token: string;

beforeAll(async () => {
  // A small key pool keeps the many certificates minted below cheap.
  sim = await AtlasSimulator.start({
    now,
    keyPool: 3,
    serviceAccounts: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }],
    apiKeys: [{ publicKey: PUBLIC_KEY, privateKey: PRIVATE_KEY }],
  });
});

afterAll(async () => {
  await sim.close();
});

beforeEach(async () => {
  fixedNow = undefined;
  offsetMs = 0;
  Object.assign(sim.behaviour, DEFAULT_BEHAVIOUR);
  sim.clearFaults();
  sim.setRateLimit(undefined);
  sim.latencyMs = {};
  token = await fetchToken();
  sim.resetRequests();
});

/** A new project with one MANAGED user, so tests do not share state. */
const freshProject = (username = 'app1'): { groupId: string; username: string } => {
  const groupId = randomObjectId();
  sim.addProject(groupId);
  sim.addUser(groupId, username);
  return { groupId, username };
};

const certsPath = (groupId: string, username: string): string =>
  `/api/atlas/v2/groups/${groupId}/databaseUsers/${encodeURIComponent(username)}/certs`;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

const header = (reply: Reply, name: string): string | undefined => {
  const value = reply.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
};

const call = async (
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  opts: { body?: string; headers?: Record<string, string>; auth?: string | null } = {},
): Promise<Reply> => {
  const headers: Record<string, string> = {
    accept: ACCEPT,
    ...(opts.body === undefined ? {} : { 'content-type': ACCEPT }),
    ...opts.headers,
  };
  const auth = opts.auth === undefined ? `Bearer ${token}` : opts.auth;
  if (auth !== null) headers.authorization = auth;
  const res = await request(`${sim.baseUrl}${path}`, { method, headers, body: opts.body });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
};

const create = (groupId: string, username: string, months: number | undefined = 3) =>
  call('POST', certsPath(groupId, username), {
    body: months === undefined ? '{}' : JSON.stringify({ monthsUntilExpiration: months }),
  });

const list = (groupId: string, username: string, query = '') =>
  call('GET', `${certsPath(groupId, username)}${query}`);

const apiErrorOf = (reply: Reply): { error: number; errorCode: string } => {
  expect(header(reply, 'content-type')).toBe('application/json');
  const body: unknown = JSON.parse(reply.text);
  expect(Object.keys(body as object)).toEqual([
    'detail',
    'error',
    'errorCode',
    'parameters',
    'reason',
  ]);
  return body as { error: number; errorCode: string };
};

const basic = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

async function fetchToken(secret = CLIENT_SECRET): Promise<string> {
  const res = await request(`${sim.baseUrl}/api/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: basic(CLIENT_ID, secret),
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: 'grant_type=client_credentials',
  });
  const body = (await res.body.json()) as { access_token: string };
  return body.access_token;
}

/** Splits the raw create body into its certificate and key blocks. */
const splitPem = (pem: string): { cert: string; key: string } => {
  const keyAt = pem.indexOf('-----BEGIN PRIVATE KEY-----');
  return { cert: pem.slice(0, keyAt), key: pem.slice(keyAt) };
};

/** `_id` values as written in the raw list text, digits intact. */
const rawIds = (text: string): string[] =>
  [...text.matchAll(/"_id":(\d+)/g)].map((m) => m[1] ?? '');

const serialDecimal = (cert: X509Certificate): string =>
  BigInt(`0x${cert.serialNumber}`).toString(10);

// --- Digest test client, hashing by hand with node:crypto ---------------------------------------

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

/** RFC 2617 §3.2.2 with qop=auth, computed independently of the simulator's digest module. */
const handDigest = (p: {
  username: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  nc: string;
  cnonce: string;
}): string => {
  const ha1 = md5(`${p.username}:${p.realm}:${p.password}`);
  const ha2 = md5(`${p.method}:${p.uri}`);
  return md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`);
};

const digestHeader = (
  method: string,
  uri: string,
  nonce: string,
  opts: { nc?: number; password?: string; username?: string } = {},
): string => {
  const nc = (opts.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = randomBytes(8).toString('hex');
  const username = opts.username ?? PUBLIC_KEY;
  const realm = 'MMS Public API';
  const response = handDigest({
    username,
    realm,
    password: opts.password ?? PRIVATE_KEY,
    method,
    uri,
    nonce,
    nc,
    cnonce,
  });
  return (
    `Digest username="${username}", realm="${realm}", nonce="${nonce}", uri="${uri}", ` +
    `algorithm=MD5, qop=auth, nc=${nc}, cnonce="${cnonce}", response="${response}"`
  );
};

const CHALLENGE =
  /^Digest realm="MMS Public API", domain="", nonce="([^"]+)", algorithm=MD5, qop="auth", stale=(true|false)$/;

const challengeOf = (reply: Reply): { nonce: string; stale: boolean } => {
  expect(reply.status).toBe(401);
  const match = CHALLENGE.exec(header(reply, 'www-authenticate') ?? '');
  expect(match, header(reply, 'www-authenticate')).not.toBeNull();
  return { nonce: match?.[1] ?? '', stale: match?.[2] === 'true' };
};

// =================================================================================================

describe('pki helpers', () => {
  it('adds calendar months keeping day and time, clamping to the month end', () => {
    const add = (iso: string, months: number) =>
      addCalendarMonths(new Date(iso), months).toISOString();
    expect(add('2026-08-10T03:06:35.000Z', 3)).toBe('2026-11-10T03:06:35.000Z');
    expect(add('2026-06-02T14:56:22.000Z', 3)).toBe('2026-09-02T14:56:22.000Z');
    expect(add('2026-11-30T00:00:00.000Z', 3)).toBe('2027-02-28T00:00:00.000Z');
    expect(add('2027-12-31T23:59:59.000Z', 2)).toBe('2028-02-29T23:59:59.000Z');
    expect(add('2026-01-15T08:00:00.000Z', 24)).toBe('2028-01-15T08:00:00.000Z');
    expect(add('2026-03-31T08:00:00.000Z', -1)).toBe('2026-02-28T08:00:00.000Z');
  });

  it('draws serials strictly between 2^53 and 2^63', () => {
    for (let i = 0; i < 2000; i++) {
      const serial = randomSerial();
      expect(serial > TWO_POW_53 && serial < TWO_POW_63).toBe(true);
    }
  });

  it('escapes subjects exactly as node:crypto X509Certificate prints them', async () => {
    const { groupId } = freshProject();
    const names = [
      'a+b',
      'a,b',
      'svc.reporting+eu@corp',
      'user389',
      'a\\b',
      '#hash',
      ' lead',
      'trail ',
      'q"uote',
      'semi;colon',
      '<angle>',
      'a=b',
      'ünï',
    ];
    for (const name of names) {
      const minted = await sim.mintCertificate(groupId, name);
      const printed = new X509Certificate(minted.certificate).subject;
      expect(printed).toBe(`CN=${escapeRfc4514(name)}`);
      expect(sim.certificates(groupId, name)[0]?.subject).toBe(printed);
    }
    expect(
      new X509Certificate((await sim.mintCertificate(groupId, 'a+b')).certificate).subject,
    ).toBe('CN=a\\+b');
  });
});

describe('OAuth client credentials', () => {
  it('issues a Bearer token that authenticates API calls', async () => {
    const { groupId, username } = freshProject();
    const res = await request(`${sim.baseUrl}/api/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: basic(CLIENT_ID, CLIENT_SECRET),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    expect(res.statusCode).toBe(200);
    const body = (await res.body.json()) as Record<string, unknown>;
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
    });

    const reply = await list(groupId, username);
    expect(reply.status).toBe(200);
    expect(sim.requests.map((r) => [r.path, r.auth, r.status])).toEqual([
      ['/api/oauth/token', 'basic', 200],
      [certsPath(groupId, username), 'bearer', 200],
    ]);
    // Nothing secret is recorded.
    const recorded = JSON.stringify(sim.requests);
    expect(recorded).not.toContain(String(body.access_token));
    expect(recorded).not.toContain(CLIENT_SECRET);
  });

  it('rejects a bad secret or an unknown client with invalid_client', async () => {
    const before = sim.stats.tokensIssued;
    for (const auth of [basic(CLIENT_ID, 'wrong'), basic('nobody', CLIENT_SECRET), 'Bearer x']) {
      const res = await request(`${sim.baseUrl}/api/oauth/token`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      expect(res.statusCode).toBe(401);
      expect(await res.body.json()).toMatchObject({ error: 'invalid_client' });
    }
    expect(sim.stats.tokensIssued).toBe(before);
    expect(sim.requests.every((r) => r.auth === 'none')).toBe(true);
  });

  it('rejects unknown, expired and revoked tokens with 401 and no Digest challenge', async () => {
    const { groupId, username } = freshProject();
    const unknown = await call('GET', certsPath(groupId, username), { auth: 'Bearer not-a-token' });
    expect(apiErrorOf(unknown)).toMatchObject({ error: 401, errorCode: 'UNAUTHORIZED' });
    expect(header(unknown, 'www-authenticate')).toBeUndefined();

    advance(3600 * 1000);
    const expired = await list(groupId, username);
    expect(expired.status).toBe(401);

    offsetMs = 0;
    token = await fetchToken();
    const revoke = await request(`${sim.baseUrl}/api/oauth/revoke`, {
      method: 'POST',
      headers: {
        authorization: basic(CLIENT_ID, CLIENT_SECRET),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `token=${encodeURIComponent(token)}&token_type_hint=access_token`,
    });
    expect(revoke.statusCode).toBe(200);
    await revoke.body.text();
    expect((await list(groupId, username)).status).toBe(401);

    token = await fetchToken();
    expect((await list(groupId, username)).status).toBe(200);
    sim.revokeAllTokens();
    expect((await list(groupId, username)).status).toBe(401);
  });

  it('honours tokenTtlSeconds', async () => {
    sim.behaviour.tokenTtlSeconds = 60;
    const res = await request(`${sim.baseUrl}/api/oauth/token`, {
      method: 'POST',
      headers: { authorization: basic(CLIENT_ID, CLIENT_SECRET) },
      body: 'grant_type=client_credentials',
    });
    expect(await res.body.json()).toMatchObject({ expires_in: 60 });
  });
});

describe('HTTP Digest', () => {
  it('hashes the RFC 2617 "Mufasa" example correctly (test helper and simulator)', () => {
    const mufasa = {
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      password: 'Circle Of Life',
      method: 'GET',
      uri: '/dir/index.html',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      nc: '00000001',
      cnonce: '0a4f113b',
    };
    expect(handDigest(mufasa)).toBe('6629fae49393a05397450978507c4ef1');
    expect(digestResponse({ ...mufasa, qop: 'auth' })).toBe('6629fae49393a05397450978507c4ef1');
    expect(md5Hex('')).toBe('d41d8cd98f00b204e9800998ecf8427e');
  });

  it('parses an Authorization header with quoted commas and escapes', () => {
    expect(
      parseDigestAuthorization(
        'Digest username="a\\"b", realm="MMS Public API", uri="/x?a=1,2", qop=auth, nc=00000001',
      ),
    ).toEqual({
      username: 'a"b',
      realm: 'MMS Public API',
      uri: '/x?a=1,2',
      qop: 'auth',
      nc: '00000001',
    });
    expect(parseDigestAuthorization('Bearer abc')).toBeUndefined();
  });

  it('challenges, then accepts a correct MD5 response for path+query', async () => {
    const { groupId, username } = freshProject();
    const uri = `${certsPath(groupId, username)}?includeCount=true&itemsPerPage=100&pageNum=1`;
    const first = await call('GET', uri, { auth: null });
    const { nonce, stale } = challengeOf(first);
    expect(stale).toBe(false);
    expect(apiErrorOf(first)).toMatchObject({ error: 401 });
    expect(sim.stats.digestChallenges).toBeGreaterThan(0);

    const second = await call('GET', uri, { auth: digestHeader('GET', uri, nonce) });
    expect(second.status).toBe(200);
    expect(sim.requests.map((r) => r.auth)).toEqual(['none', 'digest']);
  });

  it('re-sends a POST body under Digest and mints', async () => {
    const { groupId, username } = freshProject();
    const path = certsPath(groupId, username);
    const body = '{"monthsUntilExpiration":3}';
    const { nonce } = challengeOf(await call('POST', path, { auth: null, body }));
    const reply = await call('POST', path, { auth: digestHeader('POST', path, nonce), body });
    expect(reply.status).toBe(201);
    expect(sim.certificates(groupId, username)).toHaveLength(1);
  });

  it('answers a wrong password or a wrong uri with a fresh, non-stale challenge', async () => {
    const { groupId, username } = freshProject();
    const path = certsPath(groupId, username);
    const { nonce } = challengeOf(await call('GET', path, { auth: null }));
    const wrongPassword = await call('GET', path, {
      auth: digestHeader('GET', path, nonce, { password: 'nope' }),
    });
    const next = challengeOf(wrongPassword);
    expect(next.stale).toBe(false);
    expect(next.nonce).not.toBe(nonce);

    const wrongUri = await call('GET', `${path}?pageNum=1`, {
      auth: digestHeader('GET', path, next.nonce),
    });
    expect(challengeOf(wrongUri).stale).toBe(false);

    const unknownKey = await call('GET', path, {
      auth: digestHeader('GET', path, next.nonce, { username: 'other' }),
    });
    expect(challengeOf(unknownKey).stale).toBe(false);
  });

  it('allows a nonce once by default: reuse gets stale=true', async () => {
    const { groupId, username } = freshProject();
    const path = certsPath(groupId, username);
    const { nonce } = challengeOf(await call('GET', path, { auth: null }));
    expect((await call('GET', path, { auth: digestHeader('GET', path, nonce) })).status).toBe(200);
    const reused = await call('GET', path, { auth: digestHeader('GET', path, nonce, { nc: 2 }) });
    const again = challengeOf(reused);
    expect(again.stale).toBe(true);
    expect(again.nonce).not.toBe(nonce);
  });

  it('with digestNonceReuse, accepts increasing nc until the nonce expires', async () => {
    sim.behaviour.digestNonceReuse = true;
    sim.behaviour.nonceTtlSeconds = 60;
    const { groupId, username } = freshProject();
    const path = certsPath(groupId, username);
    const { nonce } = challengeOf(await call('GET', path, { auth: null }));
    for (const nc of [1, 2, 5]) {
      const reply = await call('GET', path, { auth: digestHeader('GET', path, nonce, { nc }) });
      expect(reply.status).toBe(200);
    }
    const replay = await call('GET', path, { auth: digestHeader('GET', path, nonce, { nc: 5 }) });
    expect(challengeOf(replay).stale).toBe(true);

    advance(60_000);
    const expired = await call('GET', path, { auth: digestHeader('GET', path, nonce, { nc: 6 }) });
    expect(challengeOf(expired).stale).toBe(true);
  });
});

describe('list certificates', () => {
  it('has the shape of the recorded Atlas response (headers and body skeleton)', async () => {
    // Body of test/fixtures/atlas-recorded/list-certs.http, byte for byte.
    const recorded =
      '{"links":[{"href":"http://localhost:8080/api/atlas/v2/groups/b0123456789abcdef012345b/databaseUsers/user389/certs?includeCount=true&pageNum=1&itemsPerPage=100","rel":"self"}],"results":[{"_id":2558523591213958694,"createdAt":"2026-06-02T13:56:22Z","groupId":"b0123456789abcdef012345b","notAfter":"2026-09-02T14:56:22Z","subject":"CN=user389"},{"_id":1976722359483124370,"createdAt":"2026-08-10T02:06:35Z","groupId":"b0123456789abcdef012345b","notAfter":"2026-11-10T03:06:35Z","subject":"CN=user389"}],"totalCount":2}';
    const skeleton = (text: string): string =>
      text
        .replace(/"href":"[^"]*"/g, '"href":H')
        .replace(/"_id":\d+/g, '"_id":N')
        .replace(/"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"/g, 'T')
        .replace(/"[0-9a-f]{24}"/g, 'G')
        .replace(/"CN=[^"]*"/g, 'S');

    const { groupId, username } = freshProject('user389');
    setClock('2026-06-02T14:56:22Z');
    token = await fetchToken();
    await create(groupId, username);
    setClock('2026-08-10T03:06:35Z');
    token = await fetchToken();
    await create(groupId, username);
    const reply = await list(groupId, username);

    expect(skeleton(reply.text)).toBe(skeleton(recorded));
    expect(header(reply, 'content-type')).toBe(CONTENT_TYPE);
    expect(header(reply, 'ratelimit-limit')).toBe('1200');
    expect(header(reply, 'ratelimit-remaining')).toMatch(/^\d+$/);
    expect(reply.text.replace(/"_id":\d+/g, '"_id":0')).toMatch(
      /"createdAt":"2026-06-02T13:56:22Z","groupId":"[0-9a-f]{24}","notAfter":"2026-09-02T14:56:22Z"/,
    );
    expect(reply.text).toContain(
      '"createdAt":"2026-08-10T02:06:35Z","groupId":"' +
        groupId +
        '","notAfter":"2026-11-10T03:06:35Z"',
    );
  });

  it('writes _id as a bare integer above 2^53 equal to the certificate serial', async () => {
    const { groupId, username } = freshProject('user389');
    const created = await create(groupId, username);
    const cert = new X509Certificate(splitPem(created.text).cert);

    const reply = await list(groupId, username);
    expect(reply.status).toBe(200);
    expect(header(reply, 'content-type')).toBe(CONTENT_TYPE);
    const [id] = rawIds(reply.text);
    expect(id).toBe(serialDecimal(cert));
    expect(BigInt(id ?? '0') > TWO_POW_53).toBe(true);
    // The simulator must not round-trip through a JS number: the digits above are the serial's
    // own. (Whether JSON.parse then loses some depends on the random serial: about 1 in 30
    // above 2^57 survive as a double, so a check on that would be a coin toss.)
    const parsed = JSON.parse(reply.text) as { results: { _id: number }[] };

    expect(parsed).toEqual({
      links: [
        {
          href: `${sim.baseUrl}${certsPath(groupId, username)}?includeCount=true&pageNum=1&itemsPerPage=100`,
          rel: 'self',
        },
      ],
      results: [
        {
          _id: expect.any(Number),
          createdAt: new Date(cert.validFrom).toISOString().replace('.000Z', 'Z'),
          groupId,
          notAfter: new Date(cert.validTo).toISOString().replace('.000Z', 'Z'),
          subject: 'CN=user389',
        },
      ],
      totalCount: 1,
    });
    expect(reply.text).toMatch(
      /^\{"links":\[.*\],"results":\[\{"_id":\d+,"createdAt":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ","groupId":"[0-9a-f]{24}","notAfter":"[^"]+Z","subject":"CN=user389"\}\],"totalCount":1\}$/,
    );
  });

  it('sends Ratelimit-Limit 1200 and a decreasing Ratelimit-Remaining', async () => {
    const { groupId, username } = freshProject();
    const a = await list(groupId, username);
    const b = await list(groupId, username);
    expect(header(a, 'ratelimit-limit')).toBe('1200');
    expect(Number(header(b, 'ratelimit-remaining'))).toBe(
      Number(header(a, 'ratelimit-remaining')) - 1,
    );
  });

  it('lists only unexpired certificates, oldest first, while certificates() keeps all', async () => {
    const { groupId, username } = freshProject();
    const t = now().getTime();
    const old = await sim.mintCertificate(groupId, username, {
      notBefore: new Date(t - 100 * 86_400_000),
      notAfter: new Date(t - 1000),
    });
    const soon = await sim.mintCertificate(groupId, username, {
      notBefore: new Date(t - 80 * 86_400_000),
      notAfter: new Date(t + 86_400_000),
    });
    const fresh = await sim.mintCertificate(groupId, username, { months: 3 });

    expect(rawIds((await list(groupId, username)).text)).toEqual([
      soon.serialNumber,
      fresh.serialNumber,
    ]);
    expect(sim.certificates(groupId, username).map((c) => c.serialNumber)).toEqual([
      old.serialNumber,
      soon.serialNumber,
      fresh.serialNumber,
    ]);

    advance(2 * 86_400_000);
    token = await fetchToken(); // the old one expired with the jump
    expect(rawIds((await list(groupId, username)).text)).toEqual([fresh.serialNumber]);
  });

  it('hides certificates minted less than listLagMs ago', async () => {
    sim.behaviour.listLagMs = 5000;
    const { groupId, username } = freshProject();
    expect((await create(groupId, username)).status).toBe(201);
    expect(rawIds((await list(groupId, username)).text)).toEqual([]);
    advance(5000);
    expect(rawIds((await list(groupId, username)).text)).toHaveLength(1);
  });

  it('decodes unusual usernames from the path', async () => {
    const { groupId, username } = freshProject('svc.reporting+eu@corp');
    const created = await create(groupId, username);
    expect(created.status).toBe(201);
    expect(new X509Certificate(splitPem(created.text).cert).subject).toBe(
      'CN=svc.reporting\\+eu@corp',
    );
    // Percent-encoded and literal `+`/`@` reach the same user.
    const literal = await call(
      'GET',
      `/api/atlas/v2/groups/${groupId}/databaseUsers/svc.reporting+eu@corp/certs`,
    );
    const body = JSON.parse(literal.text) as { results: { subject: string }[] };
    expect(body.results.map((r) => r.subject)).toEqual(['CN=svc.reporting\\+eu@corp']);
    expect(literal.text).toContain('"subject":"CN=svc.reporting\\\\+eu@corp"');
  });

  it('keeps certificates of a removed and re-created user', async () => {
    const { groupId, username } = freshProject();
    await sim.mintCertificate(groupId, username);
    sim.removeUser(groupId, username);
    expect(apiErrorOf(await list(groupId, username)).errorCode).toBe('USERNAME_NOT_FOUND');
    sim.addUser(groupId, username);
    expect(rawIds((await list(groupId, username)).text)).toHaveLength(1);
  });

  it.each(['USERNAME_NOT_FOUND', 'USER_NOT_FOUND', 'RESOURCE_NOT_FOUND'] as MissingUserErrorCode[])(
    'answers a missing user with 404 %s (list and create)',
    async (code) => {
      sim.behaviour.missingUserErrorCode = code;
      const { groupId } = freshProject();
      for (const reply of [await list(groupId, 'ghost'), await create(groupId, 'ghost')]) {
        expect(reply.status).toBe(404);
        expect(apiErrorOf(reply)).toMatchObject({ error: 404, errorCode: code });
      }
    },
  );

  it('answers unknown and malformed groups', async () => {
    const unknown = randomObjectId();
    expect(apiErrorOf(await list(unknown, 'app1'))).toMatchObject({
      error: 404,
      errorCode: 'GROUP_NOT_FOUND',
    });
    sim.behaviour.unknownGroupResponse = 'NOT_IN_GROUP';
    const notInGroup = await create(unknown, 'app1');
    expect(notInGroup.status).toBe(401);
    expect(apiErrorOf(notInGroup).errorCode).toBe('NOT_IN_GROUP');
    expect(apiErrorOf(await list('not-a-group', 'app1'))).toMatchObject({
      error: 400,
      errorCode: 'INVALID_GROUP_ID',
    });
  });

  it('requires the 2023-01-01 media type (406 otherwise)', async () => {
    const { groupId, username } = freshProject();
    const reply = await call('GET', certsPath(groupId, username), {
      headers: { accept: 'application/json' },
    });
    expect(reply.status).toBe(406);
    expect(apiErrorOf(reply).errorCode).toBe('INVALID_VERSION_DATE');
  });

  it('answers unknown routes with 404 RESOURCE_NOT_FOUND', async () => {
    const { groupId } = freshProject();
    for (const path of [`/api/atlas/v2/groups/${groupId}/clusters`, '/api/atlas/v2/orgs']) {
      const reply = await call('GET', path);
      expect(apiErrorOf(reply)).toMatchObject({ error: 404, errorCode: 'RESOURCE_NOT_FOUND' });
    }
  });
});

describe('create certificate', () => {
  it('returns 201 with raw PEM: certificate, then PKCS#8 key, 64 columns, trailing newline', async () => {
    const { groupId, username } = freshProject();
    const reply = await create(groupId, username);
    expect(reply.status).toBe(201);
    expect(header(reply, 'content-type')).toBe(CONTENT_TYPE);
    expect(header(reply, 'ratelimit-limit')).toBe('1200');
    expect(header(reply, 'ratelimit-remaining')).toMatch(/^\d+$/);
    expect(reply.text).toMatch(
      /^-----BEGIN CERTIFICATE-----\n(?:[A-Za-z0-9+/=]{1,64}\n)+-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\n(?:[A-Za-z0-9+/=]{1,64}\n)+-----END PRIVATE KEY-----\n$/,
    );
    for (const block of reply.text.split(/-----[A-Z ]+-----\n/).filter(Boolean)) {
      const lines = block.trimEnd().split('\n');
      expect(lines.slice(0, -1).every((line) => line.length === 64)).toBe(true);
    }
    const { cert, key } = splitPem(reply.text);
    const parsed = new X509Certificate(cert);
    expect(parsed.checkPrivateKey(createPrivateKey(key))).toBe(true);
    expect(createPrivateKey(reply.text).asymmetricKeyType).toBe('rsa');
  });

  it('mints Atlas-shaped certificates: subject, issuer, extensions, key, serial', async () => {
    const { groupId, username } = freshProject('app1');
    const reply = await create(groupId, username);
    const { cert } = splitPem(reply.text);
    const parsed = new X509Certificate(cert);
    expect(parsed.subject).toBe('CN=app1');
    expect(parsed.issuer).toMatch(/^CN=[0-9a-f]{24}\nOU=Atlas\nO=MongoDB Inc$/);
    expect(parsed.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(parsed.subjectAltName).toBeUndefined();
    expect(parsed.ca).toBe(false);
    expect(parsed.publicKey.asymmetricKeyDetails).toMatchObject({
      modulusLength: 2048,
      publicExponent: 65537n,
    });
    const serial = BigInt(`0x${parsed.serialNumber}`);
    expect(serial > TWO_POW_53 && serial < TWO_POW_63).toBe(true);
    expect(sim.certificates(groupId, username)[0]?.serialNumber).toBe(serial.toString());

    const peculiar = new x509.X509Certificate(cert);
    expect(peculiar.signatureAlgorithm).toMatchObject({ name: 'RSASSA-PKCS1-v1_5' });
    expect(peculiar.extensions.map((e) => [e.type, e.critical])).toEqual([
      ['2.5.29.15', true],
      ['2.5.29.37', true],
    ]);
    const ku = peculiar.getExtension(x509.KeyUsagesExtension);
    expect(ku?.usages).toBe(x509.KeyUsageFlags.digitalSignature);

    const ca = new X509Certificate(await sim.projectCaPem(groupId));
    expect(parsed.checkIssued(ca)).toBe(true);
    expect(parsed.verify(ca.publicKey)).toBe(true);
    expect(ca.subject).toBe(parsed.issuer);
    // Stable per project.
    const again = new X509Certificate(splitPem((await create(groupId, username)).text).cert);
    expect(again.issuer).toBe(parsed.issuer);
  });

  it('sets notBefore = now - 1 h and notAfter = now + N calendar months', async () => {
    setClock('2026-08-10T03:06:35.250Z');
    token = await fetchToken();
    const { groupId, username } = freshProject();
    const three = new X509Certificate(splitPem((await create(groupId, username)).text).cert);
    expect(new Date(three.validFrom).toISOString()).toBe('2026-08-10T02:06:35.000Z');
    expect(new Date(three.validTo).toISOString()).toBe('2026-11-10T03:06:35.000Z');
    const listed = JSON.parse((await list(groupId, username)).text) as {
      results: { createdAt: string; notAfter: string }[];
    };
    expect(listed.results[0]).toMatchObject({
      createdAt: '2026-08-10T02:06:35Z',
      notAfter: '2026-11-10T03:06:35Z',
    });

    const byDefault = new X509Certificate(
      splitPem((await create(groupId, username, undefined)).text).cert,
    );
    expect(new Date(byDefault.validTo).toISOString()).toBe('2026-11-10T03:06:35.000Z');

    setClock('2027-01-31T12:00:00Z');
    token = await fetchToken();
    const clamped = new X509Certificate(splitPem((await create(groupId, username, 1)).text).cert);
    expect(new Date(clamped.validTo).toISOString()).toBe('2027-02-28T12:00:00.000Z');
    const max = new X509Certificate(splitPem((await create(groupId, username, 24)).text).cert);
    expect(new Date(max.validTo).toISOString()).toBe('2029-01-31T12:00:00.000Z');
  });

  it.each([
    ['{"monthsUntilExpiration":25}', 'CERT_EXPIRY_CANNOT_EXCEED_TWO_YEARS'],
    ['{"monthsUntilExpiration":0}', 'INVALID_ATTRIBUTE'],
    ['{"monthsUntilExpiration":-1}', 'INVALID_ATTRIBUTE'],
    ['{"monthsUntilExpiration":2.5}', 'INVALID_ATTRIBUTE'],
    ['{"monthsUntilExpiration":"3"}', 'INVALID_ATTRIBUTE'],
    ['{"monthsUntilExpiration":null}', 'INVALID_ATTRIBUTE'],
    ['{"monthsUntilExpiration":3', 'MALFORMED_JSON'],
    ['', 'MALFORMED_JSON'],
    ['[3]', 'MALFORMED_JSON'],
  ])('rejects body %s with 400 %s', async (body, code) => {
    const { groupId, username } = freshProject();
    const reply = await call('POST', certsPath(groupId, username), { body });
    expect(apiErrorOf(reply)).toMatchObject({ error: 400, errorCode: code });
    expect(sim.certificates(groupId, username)).toHaveLength(0);
  });

  it('refuses users that are not MANAGED $external users', async () => {
    const { groupId } = freshProject();
    sim.addUser(groupId, 'none', { x509Type: 'NONE', databaseName: 'admin' });
    sim.addUser(groupId, 'customer', { x509Type: 'CUSTOMER' });
    sim.addUser(groupId, 'admin-db', { x509Type: 'MANAGED', databaseName: 'admin' });
    for (const user of ['none', 'customer', 'admin-db']) {
      const reply = await create(groupId, user);
      expect(apiErrorOf(reply)).toMatchObject({ error: 400, errorCode: 'USER_NOT_MANAGED_X509' });
    }
  });

  it('is blocked by a customer CA until it is disabled (or the switch is off)', async () => {
    const { groupId, username } = freshProject();
    const caPem = await sim.projectCaPem(groupId);
    sim.setCustomerCa(groupId, caPem);

    const security = await call('GET', `/api/atlas/v2/groups/${groupId}/userSecurity`);
    expect(JSON.parse(security.text)).toMatchObject({
      customerX509: { cas: caPem },
      ldap: { authenticationEnabled: false, authorizationEnabled: false },
    });
    expect(apiErrorOf(await create(groupId, username))).toMatchObject({
      errorCode: 'CANNOT_GENERATE_CERT_IF_ADVANCED_X509',
    });

    sim.behaviour.advancedX509BlocksManaged = false;
    expect((await create(groupId, username)).status).toBe(201);
    sim.behaviour.advancedX509BlocksManaged = true;

    const disabled = await call(
      'DELETE',
      `/api/atlas/v2/groups/${groupId}/userSecurity/customerX509`,
    );
    expect(disabled.status).toBe(202);
    expect(header(disabled, 'content-type')).toBe(CONTENT_TYPE);
    expect(JSON.parse(disabled.text)).toEqual({
      customerX509: {},
      ldap: { authenticationEnabled: false, authorizationEnabled: false },
      links: [{ href: `${sim.baseUrl}/api/atlas/v2/groups/${groupId}/userSecurity`, rel: 'self' }],
    });
    expect(sim.count('DELETE', '/userSecurity/customerX509')).toBe(1);
    expect((await create(groupId, username)).status).toBe(201);
  });

  it('enforces the per-user cap, counting expired certificates unless told not to', async () => {
    sim.behaviour.perUserCertLimit = 2;
    const { groupId, username } = freshProject();
    const t = now().getTime();
    await sim.mintCertificate(groupId, username, {
      notBefore: new Date(t - 90 * 86_400_000),
      notAfter: new Date(t - 1000),
    });
    expect((await create(groupId, username)).status).toBe(201);
    expect(apiErrorOf(await create(groupId, username))).toMatchObject({
      error: 400,
      errorCode: 'ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED',
    });
    sim.behaviour.capCountsExpired = false;
    expect((await create(groupId, username)).status).toBe(201);
    expect(apiErrorOf(await create(groupId, username)).errorCode).toBe(
      'ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED',
    );
  });

  it('counts minted certificates in stats', async () => {
    const { groupId, username } = freshProject();
    const before = sim.stats.certificatesMinted;
    await create(groupId, username);
    await sim.mintCertificate(groupId, username);
    expect(sim.stats.certificatesMinted).toBe(before + 1);
    expect(sim.count('POST', '/certs')).toBe(1);
  });
});

describe('database users', () => {
  it('paginates with links, totalCount and includeCount=false', async () => {
    const { groupId } = freshProject('u0');
    for (let i = 1; i < 7; i++) sim.addUser(groupId, `u${i}`);
    sim.addUser(groupId, 'scram', { x509Type: 'NONE', databaseName: 'admin' });
    const path = `/api/atlas/v2/groups/${groupId}/databaseUsers`;
    type Page = { links: { rel: string }[]; results: { username: string }[]; totalCount?: number };
    const page = async (query: string): Promise<Page> => {
      const reply = await call('GET', `${path}?${query}`);
      expect(reply.status).toBe(200);
      return JSON.parse(reply.text) as Page;
    };

    const first = await page('itemsPerPage=3&pageNum=1');
    expect(first.results.map((u) => u.username)).toEqual(['u0', 'u1', 'u2']);
    expect(first.totalCount).toBe(8);
    expect(first.links.map((l) => l.rel)).toEqual(['self', 'next']);
    expect((await page('itemsPerPage=3&pageNum=2')).links.map((l) => l.rel)).toEqual([
      'previous',
      'self',
      'next',
    ]);
    const last = await page('itemsPerPage=3&pageNum=3&includeCount=false');
    expect(last.results.map((u) => u.username)).toEqual(['u6', 'scram']);
    expect(last).not.toHaveProperty('totalCount');
    expect((await page('itemsPerPage=3&pageNum=9')).results).toEqual([]);

    expect(first.results[0]).toEqual({
      awsIAMType: 'NONE',
      databaseName: '$external',
      groupId,
      labels: [],
      ldapAuthType: 'NONE',
      oidcAuthType: 'NONE',
      roles: [],
      scopes: [],
      username: 'u0',
      x509Type: 'MANAGED',
    });
    expect((await page('itemsPerPage=500')).results).toHaveLength(8);
    for (const bad of ['itemsPerPage=501', 'itemsPerPage=0', 'pageNum=0', 'includeCount=maybe']) {
      const reply = await call('GET', `${path}?${bad}`);
      expect(apiErrorOf(reply)).toMatchObject({ error: 400 });
    }
  });

  it('returns one user by database name and username', async () => {
    const { groupId } = freshProject('a+b');
    const reply = await call(
      'GET',
      `/api/atlas/v2/groups/${groupId}/databaseUsers/%24external/a%2Bb`,
    );
    expect(JSON.parse(reply.text)).toMatchObject({ username: 'a+b', x509Type: 'MANAGED' });
    const wrongDb = await call('GET', `/api/atlas/v2/groups/${groupId}/databaseUsers/admin/a%2Bb`);
    expect(wrongDb.status).toBe(404);
  });
});

describe('rate limiting', () => {
  it('answers 429 with Retry-After when the bucket is empty, then recovers', async () => {
    setClock('2026-08-10T00:00:00Z');
    token = await fetchToken();
    const { groupId, username } = freshProject();
    sim.setRateLimit({ capacity: 2, refillPerSecond: 0.5 });
    const a = await list(groupId, username);
    const b = await list(groupId, username);
    expect([header(a, 'ratelimit-limit'), header(a, 'ratelimit-remaining')]).toEqual(['2', '1']);
    expect(header(b, 'ratelimit-remaining')).toBe('0');

    const before = sim.stats.rateLimited;
    const limited = await list(groupId, username);
    expect(limited.status).toBe(429);
    expect(header(limited, 'retry-after')).toBe('2');
    const body = JSON.parse(limited.text) as { detail: string; parameters: unknown[] };
    expect(apiErrorOf(limited)).toMatchObject({
      error: 429,
      errorCode: 'RATE_LIMITED_TOKEN_BUCKET',
    });
    expect(body.detail).toBe(
      'Rate limit exceeded for api/atlas/v2/groups/{groupId}/databaseUsers/{username}/certs. ' +
        'Please retry after 2 seconds. Request capacity: 2. Refill rate: 30 per 60 seconds.',
    );
    expect(sim.stats.rateLimited).toBe(before + 1);

    // The token endpoint is outside the bucket.
    expect(await fetchToken()).toEqual(expect.any(String));

    advance(1000);
    expect(header(await list(groupId, username), 'retry-after')).toBe('1');
    advance(1000);
    expect((await list(groupId, username)).status).toBe(200);
  });
});

describe('latency', () => {
  it('delays list responses by latencyMs.list', async () => {
    const { groupId, username } = freshProject();
    sim.latencyMs = { list: 150 };
    const started = performance.now();
    await list(groupId, username);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('faults', () => {
  it('error: answers the ApiError with Retry-After, without side effects, `times` times', async () => {
    const { groupId, username } = freshProject();
    sim.injectFault({
      method: 'POST',
      path: '/certs',
      times: 2,
      action: { type: 'error', status: 503, errorCode: 'SERVICE_UNAVAILABLE', retryAfter: 7 },
    });
    for (let i = 0; i < 2; i++) {
      const reply = await create(groupId, username);
      expect(reply.status).toBe(503);
      expect(header(reply, 'retry-after')).toBe('7');
      expect(apiErrorOf(reply).errorCode).toBe('SERVICE_UNAVAILABLE');
    }
    expect(sim.certificates(groupId, username)).toHaveLength(0);
    expect((await create(groupId, username)).status).toBe(201);
    expect(sim.requests.map((r) => r.fault)).toEqual(['error', 'error', undefined]);
  });

  it('reset: drops the connection before processing', async () => {
    const { groupId, username } = freshProject();
    sim.injectFault({ path: '/certs', action: { type: 'reset' } });
    await expect(create(groupId, username)).rejects.toMatchObject({
      code: expect.stringMatching(/ECONNRESET|UND_ERR_SOCKET/),
    });
    expect(sim.certificates(groupId, username)).toHaveLength(0);
    expect(sim.requests[0]).toMatchObject({ status: 0, fault: 'reset' });
  });

  it('resetAfterProcessing: mints and records, then drops the response', async () => {
    const { groupId, username } = freshProject();
    sim.injectFault({ method: 'POST', action: { type: 'resetAfterProcessing' } });
    await expect(create(groupId, username)).rejects.toThrow();
    const recorded = sim.certificates(groupId, username);
    expect(recorded).toHaveLength(1);
    expect(rawIds((await list(groupId, username)).text)).toEqual([recorded[0]?.serialNumber]);
    expect(sim.requests[0]).toMatchObject({ status: 201, fault: 'resetAfterProcessing' });
  });

  it('hang / hangAfterProcessing: never answer, with and without side effects', async () => {
    const { groupId, username } = freshProject();
    const timedOut = (path: string) =>
      request(`${sim.baseUrl}${path}`, {
        method: 'POST',
        headers: { accept: ACCEPT, authorization: `Bearer ${token}` },
        body: '{"monthsUntilExpiration":3}',
        headersTimeout: 150,
      });
    sim.injectFault({ path: /\/certs$/, action: { type: 'hang', ms: 2000 } });
    await expect(timedOut(certsPath(groupId, username))).rejects.toMatchObject({
      code: 'UND_ERR_HEADERS_TIMEOUT',
    });
    expect(sim.certificates(groupId, username)).toHaveLength(0);

    sim.injectFault({ path: /\/certs$/, action: { type: 'hangAfterProcessing' } });
    await expect(timedOut(certsPath(groupId, username))).rejects.toMatchObject({
      code: 'UND_ERR_HEADERS_TIMEOUT',
    });
    await expect.poll(() => sim.certificates(groupId, username).length).toBe(1);
  });

  it('hang until close: close() still returns promptly', async () => {
    const own = await AtlasSimulator.start({
      serviceAccounts: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }],
    });
    own.injectFault({ path: '/api/oauth/token', action: { type: 'hang' } });
    const pending = request(`${own.baseUrl}/api/oauth/token`, {
      method: 'POST',
      headers: { authorization: basic(CLIENT_ID, CLIENT_SECRET) },
      body: 'grant_type=client_credentials',
    });
    await expect.poll(() => own.requests.length).toBe(1);
    const started = performance.now();
    await own.close();
    expect(performance.now() - started).toBeLessThan(1000);
    await expect(pending).rejects.toThrow();
    expect(own.stats.tokensIssued).toBe(0);
  });

  it('raw: sends exactly the given response', async () => {
    const { groupId, username } = freshProject();
    sim.injectFault({
      path: '/certs',
      action: {
        type: 'raw',
        status: 502,
        body: '<html>bad gateway</html>',
        contentType: 'text/html',
        headers: { 'X-Test': 'yes' },
      },
    });
    const reply = await list(groupId, username);
    expect([
      reply.status,
      reply.text,
      header(reply, 'content-type'),
      header(reply, 'x-test'),
    ]).toEqual([502, '<html>bad gateway</html>', 'text/html', 'yes']);
  });

  it('matches method, path (RegExp or substring, raw or decoded) and times=Infinity', async () => {
    const { groupId, username } = freshProject('a+b');
    const error = { type: 'error', status: 500, errorCode: 'UNEXPECTED_ERROR' } as const;
    sim.injectFault({ method: 'DELETE', action: error });
    sim.injectFault({
      path: /databaseUsers\/a\+b\/certs$/,
      times: Number.POSITIVE_INFINITY,
      action: error,
    });
    for (let i = 0; i < 3; i++) expect((await list(groupId, username)).status).toBe(500);
    sim.clearFaults();
    expect((await list(groupId, username)).status).toBe(200);
    sim.injectFault({ path: 'a%2Bb', action: error });
    expect((await list(groupId, username)).status).toBe(500);
    expect(sim.pendingFaults).toBe(0);
  });

  it('does not let a Digest challenge consume a fault', async () => {
    const { groupId, username } = freshProject();
    const path = certsPath(groupId, username);
    sim.injectFault({
      path,
      action: { type: 'error', status: 500, errorCode: 'UNEXPECTED_ERROR' },
    });
    const { nonce } = challengeOf(await call('GET', path, { auth: null }));
    const reply = await call('GET', path, { auth: digestHeader('GET', path, nonce) });
    expect(reply.status).toBe(500);
  });

  it('applies to the token endpoint too', async () => {
    sim.injectFault({
      path: '/api/oauth/token',
      action: { type: 'error', status: 429, errorCode: 'RATE_LIMITED', retryAfter: 3 },
    });
    const before = sim.stats.tokensIssued;
    const res = await request(`${sim.baseUrl}/api/oauth/token`, {
      method: 'POST',
      headers: { authorization: basic(CLIENT_ID, CLIENT_SECRET) },
      body: 'grant_type=client_credentials',
    });
    expect([res.statusCode, res.headers['retry-after']]).toEqual([429, '3']);
    await res.body.text();
    expect(sim.stats.tokensIssued).toBe(before);
  });

  describe('mangleCreate', () => {
    const mangled = async (mangle: FaultAction) => {
      const { groupId, username } = freshProject();
      sim.injectFault({ action: mangle });
      // A GET does not consume a mangleCreate fault.
      expect((await list(groupId, username)).status).toBe(200);
      const reply = await create(groupId, username);
      expect(reply.status).toBe(201);
      const recorded = sim.certificates(groupId, username);
      expect(recorded).toHaveLength(1);
      return { reply, recorded: recorded[0], username };
    };

    it('truncate: cuts the PEM inside the certificate', async () => {
      const { reply } = await mangled({ type: 'mangleCreate', mangle: 'truncate' });
      expect(reply.text.startsWith('-----BEGIN CERTIFICATE-----\n')).toBe(true);
      expect(reply.text).not.toContain('-----END CERTIFICATE-----');
      expect(() => new X509Certificate(reply.text)).toThrow();
    });

    it('dropKey: certificate only', async () => {
      const { reply, recorded } = await mangled({ type: 'mangleCreate', mangle: 'dropKey' });
      expect(reply.text).not.toContain('PRIVATE KEY');
      expect(serialDecimal(new X509Certificate(reply.text))).toBe(recorded?.serialNumber);
    });

    it('wrongKey: a private key that does not match', async () => {
      const { reply, recorded } = await mangled({ type: 'mangleCreate', mangle: 'wrongKey' });
      const { cert, key } = splitPem(reply.text);
      const parsed = new X509Certificate(cert);
      expect(serialDecimal(parsed)).toBe(recorded?.serialNumber);
      expect(parsed.checkPrivateKey(createPrivateKey(key))).toBe(false);
    });

    it('wrongCn: a certificate for <username>-other, which is what gets recorded', async () => {
      const { reply, recorded, username } = await mangled({
        type: 'mangleCreate',
        mangle: 'wrongCn',
      });
      const { cert, key } = splitPem(reply.text);
      const parsed = new X509Certificate(cert);
      expect(parsed.subject).toBe(`CN=${username}-other`);
      expect(parsed.checkPrivateKey(createPrivateKey(key))).toBe(true);
      expect(recorded).toMatchObject({
        serialNumber: serialDecimal(parsed),
        subject: `CN=${username}-other`,
      });
    });

    it('shortValidity: valid for one day', async () => {
      const { reply, recorded } = await mangled({ type: 'mangleCreate', mangle: 'shortValidity' });
      const parsed = new X509Certificate(splitPem(reply.text).cert);
      const lifetime = Date.parse(parsed.validTo) - now().getTime();
      expect(lifetime).toBeGreaterThan(86_400_000 - 5000);
      expect(lifetime).toBeLessThanOrEqual(86_400_000);
      expect(recorded?.notAfter.getTime()).toBe(Date.parse(parsed.validTo));
    });

    it('expired: notAfter already passed', async () => {
      const { reply } = await mangled({ type: 'mangleCreate', mangle: 'expired' });
      const parsed = new X509Certificate(splitPem(reply.text).cert);
      expect(Date.parse(parsed.validTo)).toBeLessThan(now().getTime());
    });

    it('garbage: not PEM at all', async () => {
      const { reply } = await mangled({ type: 'mangleCreate', mangle: 'garbage' });
      expect(reply.text).not.toContain('-----BEGIN');
      expect(header(reply, 'content-type')).toBe(CONTENT_TYPE);
    });
  });
});
