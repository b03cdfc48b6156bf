import { afterEach, describe, expect, it } from 'vitest';
import {
  boundedShape,
  publishedShape,
  RateLimitPacing,
} from '../../../functions/adapters/atlas/pacing.js';
import { apiError, certsPath, clientWith, GROUP, JSON_HEADERS, mockAtlas } from './helpers.js';

/**
 * #25.5: every admitted request is settled once, whatever ends it, so network faults cannot
 * leave the pace believing requests are still in flight; and a 429's parameters are held to the
 * bounds `/rateLimits` is held to.
 */

const netError = (code: string): Error => Object.assign(new Error(`read ${code}`), { code });
const page = (remaining: number) => ({
  headers: { ...JSON_HEADERS, 'ratelimit-limit': '10', 'ratelimit-remaining': String(remaining) },
});

/** A pace whose waits are recorded, not slept. */
const recordingPace = () => {
  const waits: number[] = [];
  const pacing = new RateLimitPacing({
    maxUsers: 4,
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  return { pacing, waits };
};

describe('pacing after network faults', () => {
  const { agent, pool } = mockAtlas();
  afterEach(() => agent.assertNoPendingInterceptors());

  it('three ECONNRESETs on a retried list leave nothing in flight: with remaining=1 the next request does not wait', async () => {
    const { pacing, waits } = recordingPace();
    // A stingy bucket: 10 tokens, 5 a minute (one every 12 s).
    pacing.publish({ capacity: 10, refillPerSecond: 5 / 60, scope: 'GROUP' });
    const list = pool.intercept({ path: certsPath(), method: 'GET' });
    list.replyWithError(netError('ECONNRESET'));
    pool.intercept({ path: certsPath(), method: 'GET' }).replyWithError(netError('ECONNRESET'));
    pool.intercept({ path: certsPath(), method: 'GET' }).replyWithError(netError('ECONNRESET'));
    pool
      .intercept({ path: certsPath(), method: 'GET' })
      .reply(200, { results: [], totalCount: 0 }, page(1))
      .times(2);
    const client = clientWith(agent, { pace: pacing });

    await client.listCertificates(GROUP, 'user389');
    await client.listCertificates(GROUP, 'user389');

    // Before: the three resets stayed "outstanding", the copy held 1 − 3 tokens and the next
    // request waited 36 s for tokens Atlas said it had.
    expect(waits).toEqual([]);
  });

  it('a create refused before it left (its Digest challenge ended past startBy) is settled too', async () => {
    const { pacing, waits } = recordingPace();
    pacing.publish({ capacity: 10, refillPerSecond: 5 / 60, scope: 'GROUP' });
    const clock = { ms: 1_800_000_000_000 };
    pool.intercept({ path: certsPath('user389', ''), method: 'POST' }).reply(() => {
      clock.ms += 5_000;
      return {
        statusCode: 401,
        data: JSON.stringify(apiError(401, 'UNAUTHORIZED')),
        responseOptions: {
          headers: {
            ...JSON_HEADERS,
            'www-authenticate':
              'Digest realm="MMS Public API", nonce="n1", algorithm=MD5, qop="auth"',
          },
        },
      };
    });
    pool
      .intercept({ path: certsPath(), method: 'GET' })
      .reply(200, { results: [], totalCount: 0 }, page(1))
      .times(2);
    const client = clientWith(agent, { pace: pacing, now: () => clock.ms });
    await expect(
      client.createCertificate(GROUP, 'user389', 3, { startBy: clock.ms + 1_000 }),
    ).rejects.toThrow(/not sent/);

    await client.listCertificates(GROUP, 'user389');
    await client.listCertificates(GROUP, 'user389');
    // Left in flight, the refused create would hold the copy one token short: a 12 s wait.
    expect(waits).toEqual([]);
  });
});

describe("a 429's parameters are bounded like /rateLimits", () => {
  const { agent, pool } = mockAtlas();
  afterEach(() => agent.assertNoPendingInterceptors());

  it.each([
    ['a per of 1e-320 (the rate would be Infinity)', [10, 5, 1e-320]],
    ['a zero capacity', [0, 5, 60]],
    ['a rate of 1e308 per second', [10, 1e308, 1]],
    ['a negative per', [10, 5, -60]],
  ] as const)('refuses %s', (_what, [capacity, rate, per]) => {
    expect(boundedShape(capacity, rate, per)).toBeUndefined();
    expect(
      publishedShape({
        capacity: { value: capacity },
        refillRate: { value: rate },
        refillDurationSeconds: { value: per },
      }),
    ).toBeUndefined();
  });

  it('refuses NaN and Infinity, and keeps what Atlas really states', () => {
    expect(boundedShape(Number.NaN, 5, 60)).toBeUndefined();
    expect(boundedShape(10, Number.POSITIVE_INFINITY, 60)).toBeUndefined();
    expect(boundedShape(10, 5, 60)).toEqual({ capacity: 10, refillPerSecond: 5 / 60 });
    expect(boundedShape(100, 100, 1)).toEqual({ capacity: 100, refillPerSecond: 100 });
  });

  it('a malformed 429 does not switch pacing off: requests still wait for tokens the headers say are gone', async () => {
    const { pacing, waits } = recordingPace();
    const malformed = {
      ...apiError(429, 'RATE_LIMITED_TOKEN_BUCKET'),
      parameters: [
        'api/atlas/v2/groups/{groupId}/databaseUsers/{username}/certs',
        0,
        10,
        5,
        1e-320,
      ],
    };
    pool
      .intercept({ path: certsPath(), method: 'GET' })
      .reply(429, malformed, { headers: { ...JSON_HEADERS, 'retry-after': '0' } });
    pool
      .intercept({ path: certsPath(), method: 'GET' })
      .reply(200, { results: [], totalCount: 0 }, page(0));
    const client = clientWith(agent, { pace: pacing });
    await client.listCertificates(GROUP, 'user389');

    // Before: the bucket took a rate of Infinity, its tokens became NaN and nothing waited
    // again. Now it has no stated shape, and the headers said none is left: the next waits.
    expect(pacing.usersFor(GROUP)).toBeGreaterThanOrEqual(1);
    pool
      .intercept({ path: certsPath(), method: 'GET' })
      .reply(200, { results: [], totalCount: 0 }, page(5));
    await client.listCertificates(GROUP, 'user389');
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(0);
    expect(Number.isFinite(waits[0])).toBe(true);
  });
});
