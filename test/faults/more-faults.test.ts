import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunReport } from '../../functions/domain/report.js';
import { versionIdFor } from '../../functions/domain/stored-value.js';
import { awsProxy } from '../../tools/aws/fault-proxy.js';
import { readSecret, sm } from '../../tools/aws/seed.js';
import { Harness, P1, P2, rowOf } from '../support/harness.js';
import { recordFaultRows } from './fault-table.js';

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

describe('bad Atlas responses', () => {
  it('a listed _id that does not match the new serial: never made current, left pending', async () => {
    const old = await h.seedDue(P1, 'app1');
    // After the create, every list answers with the old certificate only.
    const listed = h.sim.certificates(P1, 'app1')[0];
    const body = `{"results":[{"_id":${listed?.serialNumber},"createdAt":"${listed?.createdAt.toISOString().slice(0, 19)}Z","groupId":"${P1}","notAfter":"${listed?.notAfter.toISOString().slice(0, 19)}Z","subject":"CN=app1"}],"totalCount":1}`;
    h.sim.injectFault({
      method: 'GET',
      path: '/certs',
      times: Number.POSITIVE_INFINITY,
      action: {
        type: 'raw',
        status: 200,
        body,
        contentType: 'application/vnd.atlas.2023-01-01+json;charset=utf-8',
      },
    });
    const r = rowOf(
      await h.run(only('app1'), {}, { tuning: { confirmAttempts: 2, confirmDelayMs: 10 } }),
      'app1',
    );
    expect(r).toMatchObject({
      action: 'failed',
      errorCode: 'NEW_CERTIFICATE_NOT_LISTED',
      serialNumber: old.serialNumber,
    });
    await keepsPrevious('app1', old.serialNumber);
  });

  it('a list body that is not JSON fails the user without minting', async () => {
    const old = await h.seedDue(P1, 'app1');
    h.sim.injectFault({
      method: 'GET',
      path: '/certs',
      times: Number.POSITIVE_INFINITY,
      action: { type: 'raw', status: 200, body: '<html>maintenance</html>' },
    });
    expect(rowOf(await h.run(only('app1'), {}, quick), 'app1')).toMatchObject({
      action: 'failed',
      errorCode: 'ATLAS_BAD_RESPONSE',
    });
    expect(posts()).toBe(0);
    await keepsPrevious('app1', old.serialNumber);
  });

  it('unexpected extra fields in a list are ignored', async () => {
    h.sim.addUser(P1, 'app1');
    const seeded = await h.seed(P1, 'app1');
    const listed = h.sim.certificates(P1, 'app1')[0];
    const body = `{"results":[{"_id":${listed?.serialNumber},"createdAt":"${listed?.createdAt.toISOString().slice(0, 19)}Z","groupId":"${P1}","notAfter":"${listed?.notAfter.toISOString().slice(0, 19)}Z","subject":"CN=app1","brandNew":{"x":1}}],"totalCount":1,"surprise":true}`;
    h.sim.injectFault({
      method: 'GET',
      path: '/certs',
      action: { type: 'raw', status: 200, body },
    });
    expect(rowOf(await h.run(only('app1')), 'app1')).toMatchObject({
      action: 'skipped',
      serialNumber: seeded.serialNumber,
    });
  });
});

describe('Secrets Manager faults (through the fault proxy)', () => {
  it('throttling and 500s are ridden out by the SDK; exactly one version is written', async () => {
    await h.seedDue(P1, 'app1');
    awsProxy().inject({ operation: 'PutSecretValue', errorType: 'ThrottlingException', times: 2 });
    awsProxy().inject({
      operation: 'DescribeSecret',
      status: 500,
      errorType: 'InternalServiceError',
      times: 2,
    });
    awsProxy().inject({
      operation: 'GetSecretValue',
      status: 500,
      errorType: 'InternalServiceError',
      times: 1,
    });
    const r = rowOf(await h.run(only('app1')), 'app1');
    expect(r.action).toBe('rotated');
    expect(awsProxy().count('PutSecretValue')).toBe(1);
    expect(awsProxy().injected.get('PutSecretValue')).toBe(2);
  });

  it('a burst of six throttled writes in a row does not lose the minted key', async () => {
    // Secrets Manager allows 50 writes a second per region: a large run can be throttled for a
    // while, and the only copy of the key is in memory until the write lands.
    await h.seedDue(P1, 'app1');
    awsProxy().inject({ operation: 'PutSecretValue', errorType: 'ThrottlingException', times: 6 });
    const r = rowOf(await h.run(only('app1')), 'app1');
    expect(r).toMatchObject({ action: 'rotated', orphans: [] });
    expect(awsProxy().injected.get('PutSecretValue')).toBe(6);
    expect((await readSecret(h.secretName(P1, 'app1'))).current.serialNumber).toBe(r.serialNumber);
  }, 60_000); // throttling retries back off from 500 ms, doubling, with full jitter

  it('KMS refusing the write: the user fails naming KMS, the orphan is reported, the previous stays current', async () => {
    const old = await h.seedDue(P1, 'app1');
    awsProxy().inject({
      operation: 'PutSecretValue',
      errorType: 'EncryptionFailure',
      message: 'KMS denied',
      times: Number.POSITIVE_INFINITY,
    });
    const r = rowOf(await h.run(only('app1')), 'app1');
    expect(r).toMatchObject({ action: 'failed', errorCode: 'KMS_ACCESS_DENIED' });
    expect(r.orphans).toHaveLength(1);
    await keepsPrevious('app1', old.serialNumber);
  });

  it('failure to promote after the pending version was stored: the next run resumes without minting', async () => {
    const old = await h.seedDue(P1, 'app1');
    awsProxy().inject({
      operation: 'UpdateSecretVersionStage',
      status: 500,
      errorType: 'InternalServiceError',
      times: Number.POSITIVE_INFINITY,
    });
    const first = rowOf(await h.run(only('app1')), 'app1');
    expect(first).toMatchObject({
      action: 'failed',
      errorCode: 'SECRET_STORE_FAILED',
      serialNumber: old.serialNumber,
    });
    awsProxy().clear();
    const second = rowOf(await h.run(only('app1')), 'app1');
    expect(second.action).toBe('resumed');
    expect(h.sim.stats.certificatesMinted).toBe(1);
    const secret = await readSecret(h.secretName(P1, 'app1'));
    expect(secret.stages[versionIdFor(second.serialNumber as string)]).toEqual(['AWSCURRENT']);
  });

  it('Secrets Manager access denied on read: the user fails before any mint', async () => {
    await h.seedDue(P1, 'app1');
    awsProxy().inject({
      operation: 'DescribeSecret',
      errorType: 'AccessDeniedException',
      times: Number.POSITIVE_INFINITY,
    });
    expect(rowOf(await h.run(only('app1')), 'app1')).toMatchObject({
      action: 'failed',
      errorCode: 'SECRET_ACCESS_DENIED',
    });
    expect(posts()).toBe(0);
    void DescribeSecretCommand;
    void sm;
  });
});

describe('time', () => {
  it('a run short of time does the most urgent user and defers the rest; the next runs finish the job', async () => {
    for (const [u, days] of [
      ['in-20', 20],
      ['in-5', 5],
      ['in-10', 10],
    ] as const)
      await h.seedDue(P1, u, days);
    h.sim.addUser(P1, 'none');
    const config = h.config({
      projects: [{ projectId: P1, users: ['in-20', 'in-5', 'in-10', 'none'] }],
      rotation: { concurrency: 1 },
    });
    const order: string[] = [];
    for (let run = 1; run <= 4; run++) {
      const before = posts();
      // Room for exactly one mint per run.
      const report = await h.run(
        config,
        {},
        { deadline: () => Date.now() + (posts() === before ? 600_000 : 10_000) },
      );
      order.push(...report.users.filter((u) => u.action === 'rotated').map((u) => u.username));
      expect(report.summary.failed).toBe(0);
    }
    expect(order).toEqual(['none', 'in-5', 'in-10', 'in-20']);
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

describe('concurrency', () => {
  it('two runs started at once mint at most one certificate per user', async () => {
    const users = ['u1', 'u2', 'u3', 'u4'];
    for (const u of users) h.sim.addUser(P1, u);
    const config = h.config({ projects: [{ projectId: P1, users }] });
    const [a, b] = await Promise.all([h.run(config), h.run(config)]);
    for (const u of users) {
      expect([rowOf(a, u).action, rowOf(b, u).action].filter((x) => x === 'rotated')).toHaveLength(
        1,
      );
    }
    expect(h.sim.stats.certificatesMinted).toBe(users.length);
  });

  it('the CLI and the Lambda handler started at once mint at most one certificate per user', async () => {
    const users = ['u1', 'u2', 'u3'];
    for (const u of users) h.sim.addUser(P1, u);
    const configPath = await h.writeConfig(h.config({ projects: [{ projectId: P1, users }] }));
    vi.stubEnv('ROTATOR_CONFIG_PATH', configPath);
    for (const [k, v] of Object.entries(h.atlasEnv)) vi.stubEnv(k, v);
    try {
      const { handler } = await import('../../functions/rotate/handler.js');
      const context = { awsRequestId: 'req-c', getRemainingTimeInMillis: () => 300_000 } as Context;
      const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true); // EMF lines
      const [cli, lambda] = await Promise.all([
        h.cli(['--config', configPath, '--json']),
        handler({}, context),
      ]).finally(() => write.mockRestore());
      h.reports.push(lambda);
      const rows = [...(JSON.parse(cli.stdout) as RunReport).users, ...lambda.users];
      for (const u of users)
        expect(rows.filter((r) => r.username === u && r.action === 'rotated')).toHaveLength(1);
      expect(h.sim.stats.certificatesMinted).toBe(users.length);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('bad input', () => {
  it('a bad config stops the CLI with exit 2 before any call', async () => {
    const path = await h.writeConfig({ projects: [{ projectId: P1, users: ['a', 'a'] }] });
    const result = await h.cli(['--config', path]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('projects[0].users[1]: user "a" is already listed');
    expect(h.sim.requests).toHaveLength(0);
  });

  it('a malformed manual payload is rejected by the handler before any call', async () => {
    const configPath = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['a'] }] }),
    );
    vi.stubEnv('ROTATOR_CONFIG_PATH', configPath);
    try {
      const { handler } = await import('../../functions/rotate/handler.js');
      const context = { awsRequestId: 'r', getRemainingTimeInMillis: () => 60_000 } as Context;
      await expect(handler({ force: true, only: [] }, context)).rejects.toThrow('only: Too small');
      expect(h.sim.requests).toHaveLength(0);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('catch-up', () => {
  it('a run that left users deferred is continued by catch-up runs, each starting after the one before; then a tick does nothing', async () => {
    const users = ['u1', 'u2', 'u3'];
    for (const u of users) h.sim.addUser(P1, u);
    // A published bucket with room for one user's list and create, refilled once in 100 s:
    // each run serves one user, its other reads give way (their creates would not fit).
    const stingy = { capacity: 2, refillPerSecond: 0.01, scope: 'project' } as const;
    h.sim.setRateLimit(stingy);
    const config = only(...users);
    const run = (trigger: 'schedule' | 'catch-up') =>
      h.run(config, {}, { trigger, deadline: () => Date.now() + 150_000 });

    const first = await run('schedule');
    expect([first.summary.rotated, first.summary.deferred]).toEqual([1, 2]);
    expect(first.catchUp).toMatchObject({ next: 'catch-up', deferred: 2, runs: 0, of: 24 });
    // Each tick continues where the run before stopped, counting, until nothing is deferred.
    let last = first;
    for (let runs = 1; last.catchUp?.next === 'catch-up'; runs++) {
      expect(runs).toBeLessThanOrEqual(4);
      h.sim.setRateLimit(stingy); // the bucket refilled between ticks
      last = await run('catch-up');
      expect(last.trigger).toBe('catch-up');
      if (last.catchUp?.next === 'catch-up') expect(last.catchUp.runs).toBe(runs);
    }
    // It ends when nothing is left, or when a catch-up run only checked users that can wait.
    expect(last.catchUp?.next).toBe('schedule');
    expect(h.sim.stats.certificatesMinted).toBe(3);
    h.sim.resetRequests();
    const idle = await run('catch-up');
    expect(idle).toMatchObject({ notRun: 'nothing to catch up', users: [] });
    expect(h.sim.requests).toHaveLength(0);
  });
});
