import { afterEach, describe, expect, it } from 'vitest';
import { AtlasDeadlineError } from '../../../functions/adapters/atlas/errors.js';
import { DeadlineError } from '../../../functions/domain/errors.js';
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

/**
 * The Atlas client's half of the time budget: a throttled create is retried only while an attempt
 * may still start (`startBy`), a create already sent keeps its whole timeout, and reads are cut at
 * the run's deadline so the report still goes out.
 */

const CREATE_PATH = certsPath('user389', '');
const throttled = { ...JSON_HEADERS, 'retry-after': '1' };

describe('AtlasClient: time budget per create attempt', () => {
  const { agent, pool } = mockAtlas();
  const create = loadRecorded('create-cert.http');
  afterEach(() => agent.assertNoPendingInterceptors());

  const refuse = (times: number) =>
    pool
      .intercept({ path: CREATE_PATH, method: 'POST' })
      .reply(429, apiError(429, 'RATE_LIMITED_TOKEN_BUCKET'), { headers: throttled })
      .times(times);

  it('does not start a retry of a throttled create after startBy: deferred, nothing minted', async () => {
    refuse(2);
    const client = bearerClient(agent);
    // The first wait (1 s) still starts before startBy; the second would start after it.
    const startBy = Date.now() + 1_500;

    const error = await rejectionOf(client.createCertificate(GROUP, 'user389', 3, { startBy }));

    expect(error).toBeInstanceOf(AtlasDeadlineError);
    expect(error).toBeInstanceOf(DeadlineError);
    expect(error.message).toMatch(/a retry in 1000 ms would start too late/);
    expect(client.stats).toMatchObject({ requests: 2, throttled: 2 });
  });

  it('without a run deadline, a long Retry-After defers the create although its lease would allow the wait', async () => {
    pool
      .intercept({ path: CREATE_PATH, method: 'POST' })
      .reply(429, apiError(429, 'RATE_LIMITED_TOKEN_BUCKET'), {
        headers: { ...JSON_HEADERS, 'retry-after': '300' },
      });
    const client = bearerClient(agent);
    // The CLI without --time-budget: startBy comes from a 15-minute lease.
    const started = Date.now();
    const error = await rejectionOf(
      client.createCertificate(GROUP, 'user389', 3, { startBy: Date.now() + 805_000 }),
    );

    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(AtlasDeadlineError);
    expect(error.message).toContain('more than the 120000 ms a run without a deadline waits');
  });

  it('retries a throttled create whose next attempt still fits', async () => {
    refuse(1);
    pool
      .intercept({ path: CREATE_PATH, method: 'POST' })
      .reply(create.status, create.body, { headers: create.headers });
    const client = bearerClient(agent);

    await expect(
      client.createCertificate(GROUP, 'user389', 3, { startBy: Date.now() + 5_000 }),
    ).resolves.toBe(create.body);
  });

  it('a create already sent is not cut short by the run deadline', async () => {
    pool
      .intercept({ path: CREATE_PATH, method: 'POST' })
      .reply(create.status, create.body, { headers: create.headers })
      .delay(1_500);
    // The run's deadline passes while Atlas is still answering.
    const client = bearerClient(agent, { deadline: () => Date.now() + 1_000 });

    await expect(client.createCertificate(GROUP, 'user389', 3)).resolves.toBe(create.body);
  });

  it('a read that outlives the run deadline is cut, and not retried past it', async () => {
    pool
      .intercept({ path: certsPath(), method: 'GET' })
      .reply(200, { results: [], totalCount: 0 })
      .delay(20_000)
      .persist();
    const deadline = Date.now() + 1_500;
    const client = bearerClient(agent, { deadline: () => deadline });

    const error = await rejectionOf(client.listCertificates(GROUP, 'user389'));

    expect(error).toBeInstanceOf(AtlasDeadlineError);
    // Cut at the deadline (a retry right at it gets 1 s), not after the 30 s request timeout.
    expect(Date.now() - deadline).toBeLessThan(1_500);
  });
});
