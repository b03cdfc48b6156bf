import { afterEach, describe, expect, it } from 'vitest';
import {
  AtlasApiError,
  AtlasCreateOutcomeUnknownError,
  AtlasUnavailableError,
} from '../../../functions/adapters/atlas/errors.js';
import {
  apiError,
  bearerClient,
  certsPath,
  GROUP,
  JSON_HEADERS,
  loadRecorded,
  mockAtlas,
  rejectionOf,
} from './helpers.js';

const CREATE_PATH = certsPath('user389', '');
const netError = (code: string): Error => Object.assign(new Error(`socket ${code}`), { code });

describe('AtlasClient.createCertificate (not idempotent)', () => {
  const { agent, pool } = mockAtlas();
  const create = loadRecorded('create-cert.http');
  const minted = () =>
    pool
      .intercept({ path: CREATE_PATH, method: 'POST' })
      .reply(create.status, create.body, { headers: create.headers });
  afterEach(() => agent.assertNoPendingInterceptors());

  it.each([
    ['with Retry-After', { ...JSON_HEADERS, 'retry-after': '0' }],
    ['without Retry-After', JSON_HEADERS],
  ])('retries a 429 %s: a throttled request mints nothing', async (_label, headers) => {
    pool
      .intercept({ path: CREATE_PATH, method: 'POST' })
      .reply(429, apiError(429, 'RATE_LIMITED_TOKEN_BUCKET'), { headers });
    minted();
    const client = bearerClient(agent);

    const pem = await client.createCertificate(GROUP, 'user389', 3);

    expect(pem).toBe(create.body);
    expect(client.stats).toMatchObject({ requests: 2, retries: 1, throttled: 1 });
  });

  it('retries a 503 that carries Retry-After', async () => {
    pool
      .intercept({ path: CREATE_PATH, method: 'POST' })
      .reply(503, 'busy', { headers: { 'retry-after': '0' } });
    minted();
    const client = bearerClient(agent);

    await expect(client.createCertificate(GROUP, 'user389', 3)).resolves.toBe(create.body);
    expect(client.stats.requests).toBe(2);
  });

  it('retries when the connection could not be made: nothing was sent', async () => {
    // A refused connection now ends the run (ATLAS_UNREACHABLE); a connect timeout is retried.
    pool
      .intercept({ path: CREATE_PATH, method: 'POST' })
      .replyWithError(netError('UND_ERR_CONNECT_TIMEOUT'));
    minted();
    const client = bearerClient(agent);

    await expect(client.createCertificate(GROUP, 'user389', 3)).resolves.toBe(create.body);
  });

  it('gives up with AtlasUnavailableError when throttled beyond the retries', async () => {
    pool
      .intercept({ path: CREATE_PATH, method: 'POST' })
      .reply(429, apiError(429, 'RATE_LIMITED'), {
        headers: { ...JSON_HEADERS, 'retry-after': '0' },
      })
      .times(4);
    const client = bearerClient(agent);

    const error = await rejectionOf(client.createCertificate(GROUP, 'user389', 3));

    expect(error).toBeInstanceOf(AtlasUnavailableError);
    expect(client.stats.requests).toBe(4);
  });

  const ambiguous = [
    ['500', { status: 500, headers: JSON_HEADERS }],
    ['502', { status: 502, headers: {} }],
    ['504', { status: 504, headers: {} }],
    ['503 without Retry-After', { status: 503, headers: {} }],
  ] as const;

  it.each(ambiguous)('does not retry a %s: the outcome is unknown', async (_label, reply) => {
    // Prepare
    pool
      .intercept({ path: CREATE_PATH, method: 'POST' })
      .reply(reply.status, apiError(reply.status, 'UNEXPECTED_ERROR'), { headers: reply.headers });
    const client = bearerClient(agent);

    // Act
    const error = await rejectionOf(client.createCertificate(GROUP, 'user389', 3));

    // Assess
    expect(error).toBeInstanceOf(AtlasCreateOutcomeUnknownError);
    expect(error).toMatchObject({ code: 'CREATE_OUTCOME_UNKNOWN', scope: 'user' });
    expect(error.cause).toBeInstanceOf(AtlasApiError);
    expect(client.stats).toMatchObject({ requests: 1, retries: 0 });
  });

  it.each(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE'])(
    'does not retry after %s: the request may have arrived',
    async (code) => {
      pool.intercept({ path: CREATE_PATH, method: 'POST' }).replyWithError(netError(code));
      const client = bearerClient(agent);

      const error = await rejectionOf(client.createCertificate(GROUP, 'user389', 3));

      expect(error).toBeInstanceOf(AtlasCreateOutcomeUnknownError);
      expect(error.message).toContain(`(${code} after sending)`);
      expect(client.stats.requests).toBe(1);
    },
  );

  it('does not retry after a timeout', async () => {
    minted().delay(500);
    const client = bearerClient(agent, { requestTimeoutMs: 30 });

    const error = await rejectionOf(client.createCertificate(GROUP, 'user389', 3));

    expect(error).toBeInstanceOf(AtlasCreateOutcomeUnknownError);
    expect(error.message).toContain('ETIMEDOUT');
    expect(client.stats.requests).toBe(1);
  });

  it('throws AtlasApiError with scope user and remedy for USER_NOT_MANAGED_X509', async () => {
    pool
      .intercept({ path: CREATE_PATH, method: 'POST' })
      .reply(
        400,
        apiError(400, 'USER_NOT_MANAGED_X509', 'The user does not have managed mode X509 enabled.'),
        { headers: JSON_HEADERS },
      );
    const client = bearerClient(agent);

    const error = await rejectionOf(client.createCertificate(GROUP, 'user389', 3));

    expect(error).toBeInstanceOf(AtlasApiError);
    expect(error).toMatchObject({
      scope: 'user',
      status: 400,
      errorCode: 'USER_NOT_MANAGED_X509',
      remedy: 'set x509Type MANAGED, databaseName $external on the user',
    });
    expect(client.stats.requests).toBe(1);
  });
});

describe('AtlasClient.disableCustomerX509 (not safe to repeat)', () => {
  const { agent, pool } = mockAtlas();
  const path = `/api/atlas/v2/groups/${GROUP}/userSecurity/customerX509`;
  afterEach(() => agent.assertNoPendingInterceptors());

  it('retries a 429 and a connection that could not be made', async () => {
    pool
      .intercept({ path, method: 'DELETE' })
      .reply(429, '{}', { headers: { 'retry-after': '0' } });
    pool.intercept({ path, method: 'DELETE' }).replyWithError(netError('UND_ERR_CONNECT_TIMEOUT'));
    pool.intercept({ path, method: 'DELETE' }).reply(202, { customerX509: {} });
    const client = bearerClient(agent);

    await expect(client.disableCustomerX509(GROUP)).resolves.toEqual({ customerX509: {} });
    expect(client.stats.requests).toBe(3);
  });

  it.each([
    ['500', () => pool.intercept({ path, method: 'DELETE' }).reply(500, '{}')],
    [
      '503',
      () =>
        pool
          .intercept({ path, method: 'DELETE' })
          .reply(503, '{}', { headers: { 'retry-after': '0' } }),
    ],
    [
      'ECONNRESET',
      () => pool.intercept({ path, method: 'DELETE' }).replyWithError(netError('ECONNRESET')),
    ],
  ])('does not retry a %s', async (_label, arrange) => {
    arrange();
    const client = bearerClient(agent);

    await expect(client.disableCustomerX509(GROUP)).rejects.toBeInstanceOf(Error);
    expect(client.stats.requests).toBe(1);
  });
});
