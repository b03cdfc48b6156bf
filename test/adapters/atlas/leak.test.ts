import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  API_KEY,
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
  TOKEN,
} from './helpers.js';

/**
 * Drives the client through successes and failures with secrets everywhere a careless client
 * could pick them up, then searches every log line and every error (message, stack, cause
 * chain, own properties) for them.
 */
const FAKE_KEY = [
  '-----BEGIN PRIVATE KEY-----',
  'MIIJQwIBADANBgkqhkiG9w0BAQEFAASCCS0wggkpAgEAAoICAQDGqW7KA0iNEt5W',
  '-----END PRIVATE KEY-----',
].join('\n');
const BASIC = Buffer.from(`${SA.clientId}:${SA.clientSecret}`).toString('base64');
const SECRETS = [
  SA.clientSecret,
  BASIC,
  API_KEY.privateApiKey,
  TOKEN,
  'PRIVATE KEY',
  'MIIJQwIBADANBgkq',
];

describe('secrets never reach logs or errors', () => {
  const { log, lines } = capturingLog();
  const errors: Error[] = [];
  const { agent, pool } = mockAtlas();
  const create = loadRecorded('create-cert.http');
  const pemWithKey = create.body.replace('REDACTED\n', `${FAKE_KEY}\n`);
  const sa = () => clientWith(agent, { credentials: SA, log });
  const tokenOk = () =>
    pool
      .intercept({ path: '/api/oauth/token', method: 'POST' })
      .reply(200, { access_token: TOKEN, token_type: 'Bearer', expires_in: 3600 });
  const collect = async (promise: Promise<unknown>) => errors.push(await rejectionOf(promise));

  afterAll(() => {
    agent.assertNoPendingInterceptors();
    const haystack = [
      ...lines,
      ...errors.flatMap((error) => [
        error.message,
        error.stack ?? '',
        inspect(error, { depth: 20, showHidden: true }),
        JSON.stringify(error),
      ]),
    ];
    expect(errors.length).toBeGreaterThanOrEqual(7);
    expect(lines.some((line) => line.startsWith('debug'))).toBe(true);
    for (const secret of SECRETS) {
      expect(haystack.filter((text) => text.includes(secret))).toEqual([]);
    }
  });

  it('returns the private key to the caller, and only there', async () => {
    tokenOk();
    pool.intercept({ path: certsPath('user389', ''), method: 'POST' }).reply(201, pemWithKey, {
      headers: create.headers,
    });

    await expect(sa().createCertificate(GROUP, 'user389', 3)).resolves.toContain(FAKE_KEY);
  });

  it('token endpoint errors echoing the secret', async () => {
    pool
      .intercept({ path: '/api/oauth/token', method: 'POST' })
      .reply(
        401,
        { error: 'invalid_client', error_description: `bad secret ${SA.clientSecret}` },
        { headers: JSON_HEADERS },
      );
    await collect(sa().listCertificates(GROUP, 'user389'));
  });

  it('a malformed token response', async () => {
    pool
      .intercept({ path: '/api/oauth/token', method: 'POST' })
      .reply(200, { access_token: TOKEN, expires_in: 'soon' });
    await collect(sa().listCertificates(GROUP, 'user389'));
  });

  it('a token response that is not JSON', async () => {
    pool.intercept({ path: '/api/oauth/token', method: 'POST' }).reply(200, `token=${TOKEN}`);
    await collect(sa().listCertificates(GROUP, 'user389'));
  });

  it('an API 401 after a fresh token', async () => {
    tokenOk();
    tokenOk();
    pool
      .intercept({ path: certsPath(), method: 'GET' })
      .reply(401, apiError(401, 'UNAUTHORIZED'), { headers: JSON_HEADERS })
      .times(2);
    await collect(sa().listCertificates(GROUP, 'user389'));
  });

  it('a Digest 401 with the wrong key', async () => {
    const challenge = {
      'www-authenticate': 'Digest realm="MMS Public API", nonce="n", algorithm=MD5, qop="auth"',
    };
    pool
      .intercept({ path: certsPath(), method: 'GET' })
      .reply(401, '{}', { headers: challenge })
      .times(2);
    await collect(clientWith(agent, { log }).listCertificates(GROUP, 'user389'));
  });

  it('create answers that hold a key but are not a certificate (handed to the caller, not logged)', async () => {
    tokenOk();
    pool.intercept({ path: certsPath('user389', ''), method: 'POST' }).reply(201, FAKE_KEY);
    // Atlas minted: the body goes to the caller's validation, never into a log line.
    expect(await sa().createCertificate(GROUP, 'user389', 3)).toBe(FAKE_KEY);
  });

  it('create failures whose bodies hold a key', async () => {
    tokenOk();
    pool.intercept({ path: certsPath('user389', ''), method: 'POST' }).reply(500, pemWithKey);
    await collect(sa().createCertificate(GROUP, 'user389', 3));
    tokenOk();
    pool.intercept({ path: certsPath('user389', ''), method: 'POST' }).reply(400, pemWithKey);
    await collect(sa().createCertificate(GROUP, 'user389', 3));
  });

  it('network failures and retries', async () => {
    tokenOk();
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    pool.intercept({ path: certsPath('user389', ''), method: 'POST' }).replyWithError(reset);
    await collect(sa().createCertificate(GROUP, 'user389', 3));
    tokenOk();
    pool.intercept({ path: certsPath(), method: 'GET' }).reply(503, pemWithKey).times(4);
    await collect(sa().listCertificates(GROUP, 'user389'));
  });
});
