import { afterEach, describe, expect, it } from 'vitest';
import {
  AtlasApiError,
  AtlasDeadlineError,
  AtlasUnavailableError,
} from '../../../functions/adapters/atlas/errors.js';
import { backoffMs, parseRetryAfter } from '../../../functions/adapters/atlas/http.js';
import {
  apiError,
  bearerClient,
  capturingLog,
  certsPath,
  clientWith,
  FAST_RETRY,
  GROUP,
  JSON_HEADERS,
  mockAtlas,
  rejectionOf,
  SA,
} from './helpers.js';

const EMPTY_PAGE = { results: [] };
const netError = (code: string): Error => Object.assign(new Error(`read ${code}`), { code });
const throttled = (retryAfter?: string) => ({
  headers: retryAfter === undefined ? JSON_HEADERS : { ...JSON_HEADERS, 'retry-after': retryAfter },
});

describe('retry helpers', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-08-10T03:06:40Z');
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('55', now)).toBe(55_000);
    expect(parseRetryAfter(['2'], now)).toBe(2000);
    expect(parseRetryAfter('Mon, 10 Aug 2026 03:06:45 GMT', now)).toBe(5000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('backs off exponentially from minTimeout with up to 25 % jitter, capped', () => {
    const options = { maxRetries: 4, minTimeoutMs: 1000, maxTimeoutMs: 30_000 };
    expect([0, 1, 2, 3].map((n) => backoffMs(n, options, () => 0))).toEqual([
      1000, 2000, 4000, 8000,
    ]);
    expect(backoffMs(1, options, () => 1)).toBe(2500);
    expect(backoffMs(10, options, () => 1)).toBe(30_000);
  });
});

describe('AtlasClient retries of safe calls', () => {
  const { agent, pool } = mockAtlas();
  afterEach(() => agent.assertNoPendingInterceptors());

  it('waits for Retry-After on 429 and then succeeds', async () => {
    // Prepare
    const { log, lines } = capturingLog();
    pool
      .intercept({ path: certsPath(), method: 'GET' })
      .reply(429, apiError(429, 'RATE_LIMITED_TOKEN_BUCKET'), throttled('1'));
    pool.intercept({ path: certsPath(), method: 'GET' }).reply(200, EMPTY_PAGE);
    const client = bearerClient(agent, { log });

    // Act
    const started = Date.now();
    await client.listCertificates(GROUP, 'user389');

    // Assess
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(client.stats).toMatchObject({ requests: 2, retries: 1, throttled: 1 });
    const retryLine = lines.find((line) => line.includes('Atlas retry'));
    expect(retryLine).toContain('"waitMs":1000');
    expect(retryLine).toContain('"why":"RATE_LIMITED_TOKEN_BUCKET"');
    expect(retryLine).toContain('"attempt":1');
  });

  it('rides out a burst of 503s', async () => {
    pool.intercept({ path: certsPath(), method: 'GET' }).reply(503, 'unavailable').times(3);
    pool.intercept({ path: certsPath(), method: 'GET' }).reply(200, EMPTY_PAGE);
    const client = bearerClient(agent);

    await client.listCertificates(GROUP, 'user389');

    expect(client.stats).toMatchObject({ requests: 4, retries: 3, throttled: 0 });
  });

  it('retries a GET after ECONNRESET and a socket error', async () => {
    pool.intercept({ path: certsPath(), method: 'GET' }).replyWithError(netError('ECONNRESET'));
    pool.intercept({ path: certsPath(), method: 'GET' }).replyWithError(netError('UND_ERR_SOCKET'));
    pool.intercept({ path: certsPath(), method: 'GET' }).reply(200, EMPTY_PAGE);
    const client = bearerClient(agent);

    await client.listCertificates(GROUP, 'user389');

    expect(client.stats.retries).toBe(2);
  });

  it('retries a GET whose attempt timed out', async () => {
    pool.intercept({ path: certsPath(), method: 'GET' }).reply(200, EMPTY_PAGE).delay(500);
    pool.intercept({ path: certsPath(), method: 'GET' }).reply(200, EMPTY_PAGE);
    const client = bearerClient(agent, { requestTimeoutMs: 50 });

    await client.listCertificates(GROUP, 'user389');

    expect(client.stats.retries).toBe(1);
  });

  it('throws AtlasUnavailableError when the retries run out', async () => {
    // maxRetries 3: four attempts in all.
    pool
      .intercept({ path: certsPath(), method: 'GET' })
      .reply(500, apiError(500, 'UNEXPECTED_ERROR'), { headers: JSON_HEADERS })
      .times(4);
    const client = bearerClient(agent);

    const error = await rejectionOf(client.listCertificates(GROUP, 'user389'));

    expect(error).toBeInstanceOf(AtlasUnavailableError);
    expect(error).toMatchObject({ code: 'ATLAS_UNAVAILABLE' });
    expect(error.message).toContain('gave up after 4 attempts');
    expect(error.cause).toBeInstanceOf(AtlasApiError);
    expect(client.stats.requests).toBe(4);
  });

  it('does not retry a 4xx', async () => {
    pool
      .intercept({ path: certsPath(), method: 'GET' })
      .reply(404, apiError(404, 'USERNAME_NOT_FOUND'), { headers: JSON_HEADERS });
    const client = bearerClient(agent);

    await expect(client.listCertificates(GROUP, 'user389')).rejects.toMatchObject({
      scope: 'user',
    });
    expect(client.stats.requests).toBe(1);
  });

  it('throws AtlasDeadlineError instead of waiting past the deadline', async () => {
    // Prepare
    pool
      .intercept({ path: certsPath(), method: 'GET' })
      .reply(429, apiError(429, 'RATE_LIMITED_TOKEN_BUCKET'), throttled('55'));
    const client = bearerClient(agent, { deadline: () => Date.now() + 10_000 });

    // Act
    const started = Date.now();
    const error = await rejectionOf(client.listCertificates(GROUP, 'user389'));

    // Assess
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error).toBeInstanceOf(AtlasDeadlineError);
    expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED', waitMs: 55_000 });
    expect(error.cause).toBeInstanceOf(AtlasApiError);
  });

  it("holds back every request until a 429's Retry-After, not only the refused one", async () => {
    // Prepare
    pool
      .intercept({ path: certsPath('a'), method: 'GET' })
      .reply(429, apiError(429, 'RATE_LIMITED_TOKEN_BUCKET'), throttled('1'));
    pool.intercept({ path: certsPath('a'), method: 'GET' }).reply(200, EMPTY_PAGE);
    pool.intercept({ path: certsPath('b'), method: 'GET' }).reply(200, EMPTY_PAGE);
    const client = bearerClient(agent);

    // Act
    const first = client.listCertificates(GROUP, 'a');
    while (client.stats.throttled === 0) await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    await client.listCertificates(GROUP, 'b');
    await first;

    // Assess: b waited for the bucket instead of collecting a 429 of its own.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(client.stats).toMatchObject({ requests: 3, throttled: 1 });
  });

  it('without a deadline, a later request does not wait out a long Retry-After either', async () => {
    pool
      .intercept({ path: certsPath(), method: 'GET' })
      .reply(429, apiError(429, 'RATE_LIMITED_TOKEN_BUCKET'), throttled('600'));
    const client = bearerClient(agent);
    await rejectionOf(client.listCertificates(GROUP, 'user389'));

    // The next request finds Atlas's 10-minute pause in the client's gate: it gives way at once.
    const started = Date.now();
    const error = await rejectionOf(client.listCertificates(GROUP, 'user389'));

    expect(Date.now() - started).toBeLessThan(1000);
    expect(error).toBeInstanceOf(AtlasDeadlineError);
    expect(error.message).toContain('more than the 120000 ms a run without a deadline waits');
  });

  it('without a deadline, defers rather than wait out a Retry-After longer than two minutes', async () => {
    pool
      .intercept({ path: certsPath(), method: 'GET' })
      .reply(429, apiError(429, 'RATE_LIMITED_TOKEN_BUCKET'), throttled('600'));
    const client = bearerClient(agent);

    const started = Date.now();
    const error = await rejectionOf(client.listCertificates(GROUP, 'user389'));

    expect(Date.now() - started).toBeLessThan(1000);
    expect(error).toBeInstanceOf(AtlasDeadlineError);
    expect(error).toMatchObject({
      waitMs: 600_000,
      message: expect.stringContaining('more than the 120000 ms a run without a deadline waits'),
    });
  });

  it('with a deadline, keeps retrying 429s past maxRetries; without one, gives up', async () => {
    const refuse = (times: number) =>
      pool
        .intercept({ path: certsPath(), method: 'GET' })
        .reply(429, apiError(429, 'RATE_LIMITED_TOKEN_BUCKET'), throttled('0'))
        .times(times);
    // A 429 acted on nothing: only the run's deadline needs to bound it.
    refuse(FAST_RETRY.maxRetries + 3);
    pool.intercept({ path: certsPath(), method: 'GET' }).reply(200, EMPTY_PAGE);
    const bounded = bearerClient(agent, { deadline: () => Date.now() + 60_000 });
    await expect(bounded.listCertificates(GROUP, 'user389')).resolves.toEqual([]);
    expect(bounded.stats.throttled).toBe(FAST_RETRY.maxRetries + 3);

    // Without a deadline nothing else would stop it.
    refuse(FAST_RETRY.maxRetries + 1);
    const unbounded = bearerClient(agent);
    const error = await rejectionOf(unbounded.listCertificates(GROUP, 'user389'));
    expect(error).toBeInstanceOf(AtlasUnavailableError);
    expect(unbounded.stats.requests).toBe(FAST_RETRY.maxRetries + 1);
  });

  it('sends nothing once the deadline has passed', async () => {
    const idle = mockAtlas();
    const client = clientWith(idle.agent, { credentials: SA, deadline: () => Date.now() - 1 });

    const error = await rejectionOf(client.listCertificates(GROUP, 'user389'));

    expect(error).toBeInstanceOf(AtlasDeadlineError);
    expect(client.stats).toMatchObject({ requests: 0, tokenRequests: 0 });
  });
});
