import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsProxy } from '../../tools/aws/fault-proxy.js';
import { readSecret } from '../../tools/aws/seed.js';
import { Harness, P1, P2, rowOf } from '../support/harness.js';
import { recordFaultRows } from './fault-table.js';

// Faults of the Atlas API and its transport (the simulator's injected errors, rate limits,
// credentials): each fails what it reaches, and no further.

let h: Harness;
beforeEach(async () => {
  h = await Harness.start();
  awsProxy().clear();
});
recordFaultRows(
  () => h,
  () => ['priv-api-key-secret-91'],
);
afterEach(async () => h.close());

const only = (...users: string[]) => h.config({ projects: [{ projectId: P1, users }] });
const posts = () => h.sim.count('POST', '/certs');
// Short timeouts and backoff: the faults below are about behaviour, not patience.
const quick = {
  atlasClient: { requestTimeoutMs: 1_500, retry: { minTimeoutMs: 50, maxTimeoutMs: 200 } },
};
const keepsPrevious = async (username: string, serialNumber: string) => {
  const secret = await readSecret(h.secretName(P1, username));
  expect(secret.current.serialNumber).toBe(serialNumber);
};

describe('Atlas faults', () => {
  it('429 without Retry-After on create: backs off and mints exactly once', async () => {
    await h.seedDue(P1, 'app1');
    h.sim.injectFault({
      method: 'POST',
      path: '/certs',
      times: 2,
      action: { type: 'error', status: 429, errorCode: 'RATE_LIMITED_TOKEN_BUCKET' },
    });
    expect(rowOf(await h.run(only('app1'), {}, quick), 'app1').action).toBe('rotated');
    expect(h.sim.stats.certificatesMinted).toBe(1);
    expect(posts()).toBe(3);
  });

  it.each([
    [503, 'SERVICE_UNAVAILABLE'],
    [500, 'UNEXPECTED_ERROR'],
    [502, 'BAD_GATEWAY'],
  ])('a burst of %i on list is retried and the user still rotates', async (status, errorCode) => {
    await h.seedDue(P1, 'app1');
    h.sim.injectFault({
      method: 'GET',
      path: '/certs',
      times: 3,
      action: { type: 'error', status, errorCode },
    });
    expect(rowOf(await h.run(only('app1'), {}, quick), 'app1').action).toBe('rotated');
  });

  it('connection reset and timeout on list are retried', async () => {
    await h.seedDue(P1, 'app1');
    h.sim.injectFault({ method: 'GET', path: '/certs', action: { type: 'reset' } });
    h.sim.injectFault({ method: 'GET', path: '/certs', action: { type: 'hang', ms: 5_000 } });
    expect(rowOf(await h.run(only('app1'), {}, quick), 'app1').action).toBe('rotated');
  });

  it('a create that times out after Atlas minted: lists again, reports the orphan, still ends with a stored certificate', async () => {
    await h.seedDue(P1, 'app1');
    h.sim.injectFault({
      method: 'POST',
      path: '/certs',
      action: { type: 'hangAfterProcessing', ms: 5_000 },
    });
    const r = rowOf(await h.run(only('app1'), {}, quick), 'app1');
    expect(r.action).toBe('rotated');
    expect(r.orphans).toHaveLength(1);
    expect(h.sim.stats.certificatesMinted).toBe(2);
  });

  it.each([
    [
      'ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED',
      () => {
        h.sim.behaviour.perUserCertLimit = 1;
      },
      /cap reached/,
    ],
    [
      'CANNOT_GENERATE_CERT_IF_ADVANCED_X509',
      () =>
        h.sim.setCustomerCa(P1, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'),
      /customer CA/,
    ],
  ])(
    '%s fails that user, naming the fix; the other project is unaffected',
    async (code, arrange, remedy) => {
      const old = await h.seedDue(P1, 'app1');
      h.sim.addUser(P2, 'etl');
      arrange();
      const config = h.config({
        projects: [
          { projectId: P1, users: ['app1'] },
          { projectId: P2, users: ['etl'] },
        ],
      });
      const report = await h.run(config);
      expect(rowOf(report, 'app1')).toMatchObject({ action: 'failed', errorCode: code });
      expect(rowOf(report, 'app1').remedy).toMatch(remedy);
      expect(rowOf(report, 'etl').action).toBe('rotated');
      await keepsPrevious('app1', old.serialNumber);
    },
  );

  it('IP_ADDRESS_NOT_ON_ACCESS_LIST fails that project once, clearly', async () => {
    h.sim.addUser(P1, 'a');
    h.sim.addUser(P1, 'b');
    h.sim.addUser(P2, 'etl');
    h.sim.injectFault({
      path: `/groups/${P1}/`,
      times: Number.POSITIVE_INFINITY,
      action: { type: 'error', status: 403, errorCode: 'IP_ADDRESS_NOT_ON_ACCESS_LIST' },
    });
    const config = h.config({
      projects: [
        { projectId: P1, users: ['a', 'b'] },
        { projectId: P2, users: ['etl'] },
      ],
      rotation: { concurrency: 1 },
    });
    const report = await h.run(config);
    for (const u of ['a', 'b'])
      expect(rowOf(report, u)).toMatchObject({
        action: 'failed',
        errorCode: 'IP_ADDRESS_NOT_ON_ACCESS_LIST',
      });
    expect(rowOf(report, 'a').remedy).toMatch(/access list/);
    expect(h.sim.requests.filter((r) => r.path.includes(P1))).toHaveLength(1);
    expect(rowOf(report, 'etl').action).toBe('rotated');
  });

  it('an access token expiring mid-run is refreshed', async () => {
    h.sim.behaviour.tokenTtlSeconds = 1;
    h.sim.latencyMs = { list: 150 };
    const users = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'];
    for (const u of users) h.sim.addUser(P1, u);
    const report = await h.run(
      h.config({ projects: [{ projectId: P1, users }], rotation: { concurrency: 1 } }),
    );
    expect(report.summary.rotated).toBe(users.length);
    expect(h.sim.stats.tokensIssued).toBeGreaterThan(1);
  });

  it('rotates with a legacy API key (Digest) and leaks no key', async () => {
    h.sim.addApiKey('pub-1', 'priv-api-key-secret-91');
    h.sim.addUser(P1, 'svc.reporting+eu@corp');
    const report = await h.run(
      only('svc.reporting+eu@corp'),
      {},
      {
        env: {
          MONGODB_ATLAS_PUBLIC_API_KEY: 'pub-1',
          MONGODB_ATLAS_PRIVATE_API_KEY: 'priv-api-key-secret-91',
        },
      },
    );
    expect(rowOf(report, 'svc.reporting+eu@corp').action).toBe('rotated');
  });
});

describe('errors stop at their real scope', () => {
  it('fails only the user Atlas refuses, naming the fix', async () => {
    h.sim.addUser(P1, 'scram', { x509Type: 'NONE', databaseName: 'admin' });
    h.sim.addUser(P1, 'ok');
    const report = await h.run(only('scram', 'ok'));
    expect(rowOf(report, 'scram')).toMatchObject({
      action: 'failed',
      errorCode: 'USER_NOT_MANAGED_X509',
    });
    expect(rowOf(report, 'scram').remedy).toMatch(/MANAGED/);
    expect(rowOf(report, 'ok').action).toBe('rotated');
  });

  it('fails every user of a project the credential cannot reach, once, and carries on elsewhere', async () => {
    const stranger = 'aaaaaaaaaaaaaaaaaaaaaaaa';
    h.sim.behaviour.unknownGroupResponse = 'NOT_IN_GROUP';
    h.sim.addUser(P1, 'ok');
    const config = h.config({
      projects: [
        { projectId: stranger, users: ['x1', 'x2', 'x3', 'x4', 'x5', 'x6'] },
        { projectId: P1, users: ['ok'] },
      ],
      rotation: { concurrency: 2 },
    });
    const report = await h.run(config);
    const failed = report.users.filter((u) => u.projectId === stranger);
    expect(failed).toHaveLength(6);
    for (const u of failed)
      expect(u).toMatchObject({ action: 'failed', errorCode: 'NOT_IN_GROUP' });
    expect(rowOf(report, 'ok').action).toBe('rotated');
    // At most the requests already in flight when the first failure arrived.
    expect(h.sim.requests.filter((r) => r.path.includes(stranger)).length).toBeLessThanOrEqual(2);
  });

  it('stops the whole run at once when Atlas rejects the credential, without a retry storm', async () => {
    for (const u of ['a', 'b', 'c']) h.sim.addUser(P1, u);
    const report = await h.run(
      only('a', 'b', 'c'),
      {},
      {
        env: { MONGODB_ATLAS_CLIENT_ID: h.clientId, MONGODB_ATLAS_CLIENT_SECRET: 'wrong' },
      },
    );
    expect(report.error?.code).toBe('ATLAS_CREDENTIALS_REJECTED');
    expect(report.users.map((u) => u.action)).toEqual(['failed', 'failed', 'failed']);
    expect(h.sim.count('POST', '/oauth/token')).toBe(1);
    expect(JSON.stringify(report)).not.toContain(h.clientSecret);
  });

  it('rides out a throttled list (429 with Retry-After)', async () => {
    h.sim.addUser(P1, 'app1');
    h.sim.injectFault({
      method: 'GET',
      path: '/certs',
      action: { type: 'error', status: 429, errorCode: 'RATE_LIMITED_TOKEN_BUCKET', retryAfter: 1 },
    });
    expect(rowOf(await h.run(only('app1')), 'app1').action).toBe('rotated');
    expect(h.sim.count('GET', '/certs')).toBeGreaterThanOrEqual(2);
  });
});

describe('stingy rate limit', () => {
  it('with a deadline and no known refill rate, a read asked to wait long gives way: the user is deferred at once, nothing minted', async () => {
    await h.seedDue(P1, 'app1');
    // Headers only: with a published refill rate the read would wait, its create fitting.
    h.sim.behaviour.rateLimitsEndpoint = 'denied';
    const slow = {
      type: 'error',
      status: 429,
      errorCode: 'RATE_LIMITED_TOKEN_BUCKET',
      retryAfter: 12,
    } as const;
    h.sim.injectFault({ method: 'GET', path: '/certs', action: slow });
    const started = Date.now();
    const r = rowOf(await h.run(only('app1'), {}, { deadline: () => started + 600_000 }), 'app1');
    expect(r.action).toBe('deferred');
    expect(r.reason).toMatch(/reads give way to certificate creation/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(posts()).toBe(0);
  });
});
