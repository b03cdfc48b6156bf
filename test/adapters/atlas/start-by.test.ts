import { afterEach, describe, expect, it } from 'vitest';
import type { AtlasCredentials } from '../../../functions/adapters/atlas/auth.js';
import { AtlasDeadlineError } from '../../../functions/adapters/atlas/errors.js';
import { DeadlineError } from '../../../functions/domain/errors.js';
import {
  API_KEY,
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

/**
 * #25.1: whatever an attempt waits for before its create leaves (a 401, the credential read
 * again, a new token, Digest challenges and stale nonces), no create leaves after its `startBy`
 * and no request after the run's deadline: it is refused as a deadline (the user deferred,
 * nothing minted). The steps take their time on a fake clock: each answer moves it.
 */

const CREATE = certsPath('user389', '');
const T0 = 1_800_000_000_000;

/** A clock that moves only when an answer (or the credential read) says it took that long. */
const fakeClock = () => {
  const clock = { ms: T0 };
  return { clock, now: () => clock.ms, take: (ms: number) => (clock.ms += ms) };
};

const unauthorized = { ...apiError(401, 'UNAUTHORIZED'), errorCode: 'UNAUTHORIZED' };
const challenge = (nonce: string, stale: boolean) => ({
  ...JSON_HEADERS,
  'www-authenticate': `Digest realm="MMS Public API", nonce="${nonce}", algorithm=MD5, qop="auth", stale=${stale}`,
});

describe('a create never leaves after its startBy', () => {
  const { agent, pool } = mockAtlas();
  afterEach(() => agent.assertNoPendingInterceptors());

  /** Every create POST that left, on the fake clock. */
  const creates = (now: () => number) => {
    const sent: number[] = [];
    return { sent, record: () => sent.push(now()) };
  };

  it('bearer: a 401, a slow re-read of the rotated credential and a new token take it past startBy: deferred, nothing sent after', async () => {
    const { now, take } = fakeClock();
    const { sent, record } = creates(now);
    const startBy = T0 + 10_000;
    // The first token is fine and quick; the create's 401 asks for a fresh one, also refused.
    pool
      .intercept({ path: '/api/oauth/token', method: 'POST' })
      .reply(200, { access_token: TOKEN, token_type: 'Bearer', expires_in: 3600 })
      .times(2);
    pool
      .intercept({ path: CREATE, method: 'POST' })
      .reply(() => {
        record();
        take(1_000);
        return { statusCode: 401, data: JSON.stringify(unauthorized) };
      })
      .times(2);
    // Secrets Manager answers the re-read 49 s later (its client allows 8 × 13 s).
    const rotated: AtlasCredentials = { ...SA, clientSecret: 'mdb_sa_sk_ROTATEDsecretVALUE000' };
    const reads: AbortSignal[] = [];
    const client = clientWith(agent, {
      credentials: SA,
      now,
      deadline: () => T0 + 120_000,
      rereadCredentials: async ({ abortSignal }) => {
        if (abortSignal) reads.push(abortSignal);
        take(49_000);
        return rotated;
      },
    });

    const error = await rejectionOf(client.createCertificate(GROUP, 'user389', 3, { startBy }));

    expect(error).toBeInstanceOf(AtlasDeadlineError);
    expect(error).toBeInstanceOf(DeadlineError);
    expect(error.message).toMatch(
      /not sent: reading the credential again ended \d+ ms after the last moment a create may start \(startBy\)/,
    );
    expect(sent.every((at) => at <= startBy)).toBe(true);
    expect(sent).toHaveLength(2);
    // The re-read itself is bounded by the time the run has left, not by the SDK's retries.
    expect(reads).toHaveLength(1);
  });

  it('bearer: a new token that arrives after startBy is not used for the create', async () => {
    const { now, take } = fakeClock();
    const startBy = T0 + 5_000;
    pool.intercept({ path: '/api/oauth/token', method: 'POST' }).reply(() => {
      take(8_000); // the token endpoint is slow today
      return {
        statusCode: 200,
        data: { access_token: TOKEN, token_type: 'Bearer', expires_in: 3600 },
      };
    });
    const client = clientWith(agent, { credentials: SA, now, deadline: () => T0 + 60_000 });

    const error = await rejectionOf(client.createCertificate(GROUP, 'user389', 3, { startBy }));

    expect(error).toBeInstanceOf(AtlasDeadlineError);
    expect(error.message).toMatch(/not sent: requesting a token ended 3000 ms after/);
    // No create interceptor: had it been sent, MockAgent would have refused the connection.
  });

  it('digest: stale-nonce re-sends stop at startBy; none leaves after it', async () => {
    const { now, take } = fakeClock();
    const { sent, record } = creates(now);
    const startBy = T0 + 50_000;
    // The challenge, then stale nonces, each answer 30 s later (a slow path to Atlas).
    let n = 0;
    pool
      .intercept({ path: CREATE, method: 'POST' })
      .reply(() => {
        record();
        take(30_000);
        n += 1;
        return {
          statusCode: 401,
          data: JSON.stringify(unauthorized),
          responseOptions: { headers: challenge(`nonce-${n}`, n > 1) },
        };
      })
      .times(2);
    const client = clientWith(agent, {
      credentials: API_KEY,
      now,
      deadline: () => T0 + 300_000,
    });

    const error = await rejectionOf(client.createCertificate(GROUP, 'user389', 3, { startBy }));

    expect(error).toBeInstanceOf(AtlasDeadlineError);
    expect(error.message).toMatch(
      /not sent: answering the Digest challenge ended 10000 ms after the last moment a create may start/,
    );
    expect(sent).toEqual([T0, T0 + 30_000]);
  });

  it("digest: no request after the run's deadline, whatever the challenges took", async () => {
    const { now, take } = fakeClock();
    const { sent, record } = creates(now);
    pool.intercept({ path: certsPath(), method: 'GET' }).reply(() => {
      record();
      take(30_000);
      return {
        statusCode: 401,
        data: JSON.stringify(unauthorized),
        responseOptions: { headers: challenge('nonce-1', false) },
      };
    });
    const deadline = T0 + 20_000;
    const client = clientWith(agent, { credentials: API_KEY, now, deadline: () => deadline });

    const error = await rejectionOf(client.listCertificates(GROUP, 'user389'));

    expect(error).toBeInstanceOf(AtlasDeadlineError);
    expect(error.message).toMatch(/ended 10000 ms after the run's deadline; nothing was sent/);
    expect(sent).toEqual([T0]);
  });

  it('a create whose steps end in time still leaves, once', async () => {
    const { now, take } = fakeClock();
    const { sent, record } = creates(now);
    pool.intercept({ path: CREATE, method: 'POST' }).reply(() => {
      record();
      take(500);
      return {
        statusCode: 401,
        data: JSON.stringify(unauthorized),
        responseOptions: { headers: challenge('nonce-1', false) },
      };
    });
    pool.intercept({ path: CREATE, method: 'POST' }).reply(() => {
      record();
      return { statusCode: 201, data: 'PEM' };
    });
    const client = clientWith(agent, { credentials: API_KEY, now, deadline: () => T0 + 60_000 });

    await expect(
      client.createCertificate(GROUP, 'user389', 3, { startBy: T0 + 1_000 }),
    ).resolves.toBe('PEM');
    expect(sent).toEqual([T0, T0 + 500]);
  });
});
