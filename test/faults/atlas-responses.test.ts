import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { versionIdFor } from '../../functions/domain/stored-value.js';
import { awsProxy } from '../../tools/aws/fault-proxy.js';
import { readSecret, seedSecret } from '../../tools/aws/seed.js';
import { daysFromNow, Harness, P1, P2, rowOf } from '../support/harness.js';
import { recordFaultRows } from './fault-table.js';

// Atlas answers that are wrong or late (mangled certificates, bodies off the contract, a list
// lagging behind): nothing wrong is ever made current.

let h: Harness;
beforeEach(async () => {
  h = await Harness.start();
  awsProxy().clear();
});
recordFaultRows(() => h);
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

describe('bad certificates are never made current', () => {
  it.each([
    'truncate',
    'dropKey',
    'wrongKey',
    'wrongCn',
    'shortValidity',
    'expired',
    'garbage',
  ] as const)(
    'rejects a %s create response, keeps the previous certificate and reports the orphan',
    async (mangle) => {
      const old = await h.seedDue(P1, 'app1');
      h.sim.injectFault({
        method: 'POST',
        path: '/certs',
        action: { type: 'mangleCreate', mangle },
      });
      const r = rowOf(await h.run(only('app1')), 'app1');
      expect(r).toMatchObject({
        action: 'failed',
        errorCode: 'CERTIFICATE_REJECTED',
        serialNumber: old.serialNumber,
      });
      expect(r.reason).not.toMatch(/MII|PRIVATE KEY-----/);
      const secret = await readSecret(h.secretName(P1, 'app1'));
      expect(secret.current.serialNumber).toBe(old.serialNumber);
      expect(Object.keys(secret.stages)).toEqual([versionIdFor(old.serialNumber)]);
      const unexpired = h.sim.certificates(P1, 'app1').filter((c) => c.notAfter > new Date());
      const fresh = unexpired.map((c) => c.serialNumber).filter((s) => s !== old.serialNumber);
      expect(r.orphans).toEqual(fresh);
    },
  );
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

describe('checks before minting', () => {
  it('reports a held certificate Atlas does not list instead of replacing it', async () => {
    h.sim.addUser(P1, 'app1');
    const elsewhere = await h.sim.mintCertificate(P2, 'app1', {
      notBefore: daysFromNow(-2),
      notAfter: daysFromNow(80),
    });
    await seedSecret(h.secretName(P1, 'app1'), { projectId: P1, username: 'app1' }, elsewhere);
    const r = rowOf(await h.run(only('app1')), 'app1');
    expect(r).toMatchObject({ action: 'failed', errorCode: 'HELD_CERTIFICATE_UNKNOWN_TO_ATLAS' });
    expect(posts()).toBe(0);
  });

  it('leaves a new certificate pending while Atlas does not list it, and promotes it next run', async () => {
    // The simulator's clock runs ahead once the seed is in, so only the new mint lags.
    await h.close();
    let ahead = 0;
    h = await Harness.start({ now: () => new Date(Date.now() + ahead) });
    const old = await h.seedDue(P1, 'app1');
    ahead = 120_000;
    h.sim.behaviour.listLagMs = 60_000;
    const tuning = { confirmAttempts: 2, confirmDelayMs: 10 };
    const first = rowOf(await h.run(only('app1'), {}, { tuning }), 'app1');
    expect(first).toMatchObject({
      action: 'failed',
      errorCode: 'NEW_CERTIFICATE_NOT_LISTED',
      serialNumber: old.serialNumber,
    });
    const pendingSerial = h.sim.certificates(P1, 'app1').at(-1)?.serialNumber as string;
    expect(
      (await readSecret(h.secretName(P1, 'app1'))).stages[versionIdFor(pendingSerial)],
    ).toEqual(['AWSPENDING']);

    h.sim.behaviour.listLagMs = 0;
    const second = rowOf(await h.run(only('app1'), {}, { tuning }), 'app1');
    expect(second).toMatchObject({ action: 'resumed', serialNumber: pendingSerial });
    expect(posts()).toBe(1);
  });
});
