import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AtlasClient } from '../../functions/adapters/atlas/client.js';
import { parseConfig } from '../../functions/domain/config/resolve.js';
import {
  type DisableReport,
  disableCustomerX509,
  parseDisableRequest,
  RefusedError,
} from '../../functions/domain/customer-x509.js';
import type { RotatorEvent } from '../../functions/domain/events.js';
import { silentLog } from '../../functions/domain/log.js';
import { disableWithConfig } from '../../functions/runtime.js';
import { sm } from '../../tools/aws/seed.js';
import { createProjectCa, generateRsaKeyPair } from '../../tools/simulator/pki.js';
import { Harness, P1, P2 } from '../support/harness.js';

const STRANGER = 'aaaaaaaaaaaaaaaaaaaaaaaa';
let h: Harness;
let caPem: string;

beforeEach(async () => {
  h = await Harness.start();
  caPem = (await createProjectCa(await generateRsaKeyPair(2048), new Date())).certificatePem;
  h.sim.setCustomerCa(P1, caPem);
});
afterEach(async () => h.close());

const configFor = () =>
  parseConfig(
    h.config({
      projects: [
        { projectId: P1, users: ['app1'] },
        { projectId: P2, users: ['app2'] },
      ],
    }),
  );

const disable = (request: object, env = h.atlasEnv) =>
  disableWithConfig({
    config: configFor(),
    request: parseDisableRequest(request),
    log: silentLog,
    env,
    requestId: 'req-42',
  });

/** Who asks and why: required with confirm. */
const WHO = { requestedBy: 'alice@example.com', reason: 'CHG-1234' };

const deletes = () => h.sim.count('DELETE', '/userSecurity/customerX509');

describe('disable customer-managed X.509', () => {
  it('is a dry run without confirm: reports the CA and the restart, changes nothing', async () => {
    const report = await disable({ projectId: P1 });
    expect(report).toMatchObject({ projectId: P1, action: 'dry-run', customerCaConfigured: true });
    expect(report.certificateAuthorities).toHaveLength(1);
    expect(report.certificateAuthorities[0]?.subject).toMatch(
      /^CN=[0-9a-f]{24}, OU=Atlas, O=MongoDB Inc$/,
    );
    expect(report.certificateAuthorities[0]?.notAfter).toMatch(/^20\d\d-/);
    expect(report.warning).toMatch(/rolling restart/);
    expect(report.message).toContain(`confirm=${P1}`);
    expect(deletes()).toBe(0);
  });

  it.each([
    [{}, 'requestedBy and reason'],
    [{ requestedBy: 'alice' }, 'reason'],
    [{ reason: 'CHG-1' }, 'requestedBy'],
  ])('refuses a confirm without who and why (%o), before any call', async (who, names) => {
    const err = await disable({ projectId: P1, confirm: P1, ...who }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'REFUSED',
      message: expect.stringContaining(`needs ${names}`),
    });
    expect(h.sim.requests).toHaveLength(0);
  });

  it('refuses a confirm that is not exactly the project id, before any call', async () => {
    await expect(disable({ projectId: P1, confirm: `${P1} ` })).rejects.toThrow(RefusedError);
    await expect(disable({ projectId: P1, confirm: P2 })).rejects.toThrow(
      'confirm does not match the project id',
    );
    expect(h.sim.requests).toHaveLength(0);
  });

  it('refuses a project the config does not name, without any Atlas call', async () => {
    await expect(disable({ projectId: STRANGER, confirm: STRANGER })).rejects.toThrow(
      `Project ${STRANGER} is not in the rotation config`,
    );
    expect(h.sim.requests).toHaveLength(0);
  });

  it('changes nothing when no customer CA is configured', async () => {
    const report = await disable({ projectId: P2, confirm: P2, ...WHO });
    expect(report).toMatchObject({
      action: 'no-op',
      customerCaConfigured: false,
      certificateAuthorities: [],
    });
    expect(deletes()).toBe(0);
  });

  it('disables when confirmed and returns the audit record', async () => {
    const report = await disable({
      projectId: P1,
      confirm: P1,
      requestedBy: 'alice@example.com',
      reason: 'CHG-1234 retire old CA',
    });
    expect(report.action).toBe('disabled');
    expect(report.audit).toMatchObject({
      projectId: P1,
      requestedBy: 'alice@example.com',
      reason: 'CHG-1234 retire old CA',
      requestId: 'req-42',
      atlasResponse: { customerCaPresent: false },
      eventPublished: true, // accepted by moto_server's EventBridge
    });
    expect(report.audit?.cleared).toEqual(report.certificateAuthorities);
    expect(deletes()).toBe(1);
    expect(h.sim.stats.customerX509Disabled).toBe(1);
    // Afterwards there is nothing left to disable.
    expect((await disable({ projectId: P1, confirm: P1, ...WHO })).action).toBe('no-op');
  });

  it('publishes the audit record as the "Atlas Customer X509 Disabled" event', async () => {
    const published: RotatorEvent[] = [];
    const config = configFor();
    const atlas = new AtlasClient({
      baseUrl: h.sim.baseUrl,
      credentials: { kind: 'serviceAccount', clientId: h.clientId, clientSecret: h.clientSecret },
    });
    const report = await disableCustomerX509(
      {
        config,
        atlas,
        events: {
          publish: async (events) => {
            published.push(...events);
            return events.length;
          },
        },
        log: silentLog,
        requestId: 'req-7',
        now: () => new Date('2026-11-28T12:00:00Z'),
      },
      parseDisableRequest({ projectId: P1, confirm: P1, requestedBy: 'bob', reason: 'why' }),
    );
    expect(published).toEqual([
      {
        detailType: 'Atlas Customer X509 Disabled',
        detail: {
          projectId: P1,
          requestedBy: 'bob',
          reason: 'why',
          requestId: 'req-7',
          time: '2026-11-28T12:00:00.000Z',
          cleared: report.certificateAuthorities,
          atlasResponse: { customerCaPresent: false },
        },
      },
    ]);
  });

  it.each([
    [
      '401 (credentials)',
      { type: 'error', status: 401, errorCode: 'UNAUTHORIZED' },
      'ATLAS_CREDENTIALS_REJECTED',
    ],
    [
      '403 (access list)',
      { type: 'error', status: 403, errorCode: 'IP_ADDRESS_NOT_ON_ACCESS_LIST' },
      'IP_ADDRESS_NOT_ON_ACCESS_LIST',
    ],
    ['404', { type: 'error', status: 404, errorCode: 'GROUP_NOT_FOUND' }, 'GROUP_NOT_FOUND'],
  ] as const)('reports an Atlas %s clearly and disables nothing', async (_label, action, code) => {
    h.sim.injectFault({ method: 'GET', path: '/userSecurity', times: 3, action });
    const err = await disable({ projectId: P1, confirm: P1, ...WHO }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code });
    expect((err as { remedy: string }).remedy.length).toBeGreaterThan(10);
    expect(deletes()).toBe(0);
  });

  it('rides out a 429 with Retry-After, and never retries a DELETE that may have reached Atlas', async () => {
    h.sim.injectFault({
      method: 'GET',
      path: '/userSecurity',
      action: { type: 'error', status: 429, errorCode: 'RATE_LIMITED_TOKEN_BUCKET', retryAfter: 1 },
    });
    h.sim.injectFault({
      method: 'DELETE',
      path: '/customerX509',
      action: { type: 'error', status: 500, errorCode: 'UNEXPECTED_ERROR' },
    });
    const err = await disable({ projectId: P1, confirm: P1, ...WHO }).catch((e: unknown) => e);
    expect(h.sim.count('GET', '/userSecurity')).toBe(2);
    expect(h.sim.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    expect(err).toMatchObject({ code: 'UNEXPECTED_ERROR' });
  });

  it('uses the disable credential when the config names one', async () => {
    const secretId = `${h.prefix}atlas-owner`;
    await sm().send(
      new CreateSecretCommand({
        Name: secretId,
        SecretString: JSON.stringify({ clientId: h.clientId, clientSecret: h.clientSecret }),
      }),
    );
    const config = parseConfig({
      ...h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
      atlas: {
        baseUrl: h.sim.baseUrl,
        credentialsSecretId: 'does-not-exist',
        disableCredentialsSecretId: secretId,
      },
    });
    const report = await disableWithConfig({
      config,
      request: parseDisableRequest({ projectId: P1 }),
      log: silentLog,
      env: {},
    });
    expect(report.action).toBe('dry-run');
  });

  it('rejects malformed payloads naming the field', () => {
    for (const [payload, message] of [
      [{}, 'projectId: Invalid input'],
      [{ projectId: 'x' }, 'projectId: must be a 24-character'],
      [{ projectId: P1, confirm: 1 }, 'confirm: Invalid input'],
      [{ projectId: P1, extra: true }, 'Unrecognized key: "extra"'],
    ] as const) {
      expect(() => parseDisableRequest(payload)).toThrow(message);
    }
  });
});

describe('disable customer-managed X.509: CLI and handler', () => {
  it('CLI: dry run exits 0, refused exits 2, Atlas failure exits 1, and no secret is printed', async () => {
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
    );
    const dry = await h.disableCli(['--config', config, '--project', P1]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^Dry run: project .* has 1 customer CA certificate\(s\)/);
    expect(dry.stdout).toMatch(/WARNING: .*rolling restart/);

    const refused = await h.disableCli(['--config', config, '--project', P1, '--confirm', P2]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/confirm does not match/);

    h.sim.injectFault({
      method: 'GET',
      path: '/userSecurity',
      times: 5,
      action: { type: 'error', status: 403, errorCode: 'ORG_REQUIRES_ACCESS_LIST' },
    });
    const confirmed = ['--config', config, '--project', P1, '--confirm', P1];
    const signed = [...confirmed, '--requested-by', 'carol', '--reason', 'test'];
    const unsigned = await h.disableCli(confirmed);
    expect(unsigned.code).toBe(2);
    expect(unsigned.stderr).toMatch(/needs requestedBy and reason for its audit record/);
    expect(deletes()).toBe(0);

    const failed = await h.disableCli(signed);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/ORG_REQUIRES_ACCESS_LIST/);
    h.sim.clearFaults();

    const done = await h.disableCli([...signed, '--json']);
    expect(done.code).toBe(0);
    const report = JSON.parse(done.stdout) as DisableReport;
    expect(report).toMatchObject({
      action: 'disabled',
      audit: { requestedBy: 'carol', reason: 'test' },
    });
    for (const out of [dry, refused, failed, done]) {
      expect(out.stdout + out.stderr).not.toContain(h.clientSecret);
      expect(out.stdout + out.stderr).not.toMatch(/PRIVATE KEY|Bearer \S/);
    }
  });

  it('handler: validates, refuses and reports like the CLI', async () => {
    const configPath = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
    );
    vi.stubEnv('ROTATOR_CONFIG_PATH', configPath);
    for (const [k, v] of Object.entries(h.atlasEnv)) vi.stubEnv(k, v);
    vi.resetModules();
    try {
      const { handler } = await import('../../functions/disable-customer-x509/handler.js');
      const context = { awsRequestId: 'req-9', getRemainingTimeInMillis: () => 60_000 } as Context;
      // A fresh module graph: compare by name, not class identity.
      await expect(handler({ projectId: P1, confirm: P1 }, context)).rejects.toMatchObject({
        code: 'REFUSED',
      });
      await expect(handler({ projectId: P1, confirm: 'nope' }, context)).rejects.toMatchObject({
        name: 'RefusedError',
        code: 'REFUSED',
      });
      await expect(handler({ project: P1 }, context)).rejects.toThrow(
        'Unrecognized key: "project"',
      );
      expect(h.sim.requests).toHaveLength(0);
      const report = await handler(
        { projectId: P1, confirm: P1, requestedBy: 'dave', reason: 'r' },
        context,
      );
      expect(report.audit).toMatchObject({ requestId: 'req-9', requestedBy: 'dave' });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
