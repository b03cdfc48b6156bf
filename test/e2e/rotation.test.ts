import { X509Certificate } from 'node:crypto';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ORPHANS_TAG } from '../../functions/adapters/aws/secret-store/tags.js';
import { runMetrics } from '../../functions/adapters/signals.js';
import { versionIdFor } from '../../functions/domain/stored-value.js';
import { readSecret, secretExists, sm } from '../../tools/aws/seed.js';
import { daysFromNow, Harness, P1, P2, rowOf } from '../support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await Harness.start();
});
afterEach(async () => h.close());

describe('rotation end to end (simulator + moto_server)', () => {
  it('stores a first certificate for a user without a secret, then creates nothing on the next run', async () => {
    h.sim.addUser(P1, 'app1');
    const config = h.config({ projects: [{ projectId: P1, users: ['app1'] }] });

    const first = await h.run(config);
    const r = rowOf(first, 'app1');
    expect(r).toMatchObject({ action: 'rotated', orphans: [] });
    expect(r.errorCode).toBeUndefined();
    const secret = await readSecret(h.secretName(P1, 'app1'));
    expect(r.secretArn).toMatch(/^arn:aws:secretsmanager:/);
    // The serial is Atlas's _id digit for digit, and names the version.
    const [listed] = h.sim.certificates(P1, 'app1');
    expect(secret.current.serialNumber).toBe(listed?.serialNumber);
    expect(r.serialNumber).toBe(listed?.serialNumber);
    expect(BigInt(secret.current.serialNumber)).toBeGreaterThan(2n ** 53n);
    expect(secret.stages).toEqual({ [versionIdFor(secret.current.serialNumber)]: ['AWSCURRENT'] });
    const x509 = new X509Certificate(secret.current.certificate);
    expect(x509.subject).toBe('CN=app1');
    expect(secret.current.pem).toBe(secret.current.certificate + secret.current.privateKey);
    expect(secret.current.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(
      x509.checkPrivateKey(
        (await import('node:crypto')).createPrivateKey(secret.current.privateKey),
      ),
    ).toBe(true);
    expect(secret.current.notAfter.toISOString()).toBe(r.notAfter);

    h.sim.resetRequests();
    const second = await h.run(config);
    expect(rowOf(second, 'app1')).toMatchObject({
      action: 'skipped',
      serialNumber: r.serialNumber,
    });
    expect(rowOf(second, 'app1').reason).toMatch(/^not due: \d+ days left, renews from /);
    expect(h.sim.count('POST', '/certs')).toBe(0);
    expect(second.summary).toMatchObject({ users: 1, skipped: 1, rotated: 0, failed: 0 });
  });

  it('replaces a certificate inside its renewal window, keeping the old one as AWSPREVIOUS', async () => {
    h.sim.addUser(P1, 'billing');
    h.sim.addUser(P1, 'reporting');
    const old = await h.seed(P1, 'billing', {
      notBefore: daysFromNow(-85),
      notAfter: daysFromNow(5),
    });
    const healthy = await h.seed(P1, 'reporting');
    const config = h.config({ projects: [{ projectId: P1, users: ['billing', 'reporting'] }] });

    const report = await h.run(config);
    const billing = rowOf(report, 'billing');
    expect(billing.action).toBe('rotated');
    expect(billing.reason).toMatch(/days left; renewal window opened/);
    expect(billing.serialNumber).not.toBe(old.serialNumber);
    expect(rowOf(report, 'reporting')).toMatchObject({
      action: 'skipped',
      serialNumber: healthy.serialNumber,
    });

    const secret = await readSecret(h.secretName(P1, 'billing'));
    const newId = versionIdFor(billing.serialNumber as string);
    expect(secret.stages[newId]).toEqual(['AWSCURRENT']);
    expect(secret.stages[versionIdFor(old.serialNumber)]).toEqual(['AWSPREVIOUS']);
    expect(secret.current.serialNumber).toBe(billing.serialNumber);
    expect(h.sim.count('POST', '/certs')).toBe(1);
  });

  it('discovers MANAGED users, honours exclude, and reports every user', async () => {
    h.sim.addUser(P2, 'etl');
    h.sim.addUser(P2, 'legacy-batch');
    h.sim.addUser(P2, 'human', { x509Type: 'NONE', databaseName: 'admin' });
    h.sim.addUser(P2, 'customer-ca', { x509Type: 'CUSTOMER' });
    const config = h.config({
      projects: [{ projectId: P2, discover: true, exclude: ['legacy-batch'] }],
    });

    const report = await h.run(config);
    expect(report.users.map((u) => [u.username, u.action])).toEqual([['etl', 'rotated']]);
  });

  it('plans without minting, writing or leasing on a dry run', async () => {
    h.sim.addUser(P1, 'app1');
    h.sim.addUser(P1, 'reporting');
    await h.seed(P1, 'reporting');
    const config = h.config({ projects: [{ projectId: P1, users: ['app1', 'reporting'] }] });

    const report = await h.run(config, { dryRun: true });
    expect(report.dryRun).toBe(true);
    expect(rowOf(report, 'app1')).toMatchObject({
      action: 'planned',
      reason: 'would mint: no certificate stored yet',
    });
    expect(rowOf(report, 'reporting').action).toBe('skipped');
    expect(h.sim.count('POST', '/certs')).toBe(0);
    expect(await secretExists(h.secretName(P1, 'app1'))).toBe(false);
  });

  it('forces a replacement for named users only', async () => {
    h.sim.addUser(P1, 'a');
    h.sim.addUser(P1, 'b');
    const a = await h.seed(P1, 'a');
    const b = await h.seed(P1, 'b');
    const config = h.config({ projects: [{ projectId: P1, users: ['a', 'b'] }] });

    const report = await h.run(config, { force: true, only: [{ projectId: P1, username: 'a' }] });
    expect(report.users.map((u) => u.username)).toEqual(['a']);
    expect(rowOf(report, 'a')).toMatchObject({
      action: 'rotated',
      reason: 'rotated (forced by the operator)',
    });
    expect(rowOf(report, 'a').serialNumber).not.toBe(a.serialNumber);
    expect((await readSecret(h.secretName(P1, 'b'))).current.serialNumber).toBe(b.serialNumber);
  });

  it('reports a user named with --only that the config does not cover', async () => {
    h.sim.addUser(P1, 'a');
    const config = h.config({ projects: [{ projectId: P1, users: ['a'] }] });
    const report = await h.run(config, {
      force: true,
      only: [{ projectId: P1, username: 'ghost' }],
    });
    expect(report.users).toEqual([
      expect.objectContaining({
        username: 'ghost',
        action: 'failed',
        errorCode: 'USER_NOT_CONFIGURED',
      }),
    ]);
    expect(h.sim.count('POST', '/certs')).toBe(0);
  });

  it('rotates unusual usernames, URL-encoded on the path and matched against the escaped subject', async () => {
    const names = ['svc.reporting+eu@corp', 'a-b_c', 'x,y'];
    for (const n of names) h.sim.addUser(P1, n);
    const config = h.config({ projects: [{ projectId: P1, users: names }] });

    const report = await h.run(config);
    expect(report.users.map((u) => u.action)).toEqual(['rotated', 'rotated', 'rotated']);
    expect(
      h.sim.requests.some((r) => r.path.endsWith('/databaseUsers/svc.reporting%2Beu%40corp/certs')),
    ).toBe(true);
    expect(rowOf(report, 'x,y').secretName).toBe(`${h.prefix}${P1}/x-y`);
    const secret = await readSecret(`${h.prefix}${P1}/svc.reporting+eu@corp`);
    expect(new X509Certificate(secret.current.certificate).subject).toBe(
      'CN=svc.reporting\\+eu@corp',
    );
  });

  it('authenticates with a legacy API key over Digest', async () => {
    h.sim.addApiKey('pubkey1', 'privkey-secret-1');
    h.sim.addUser(P1, 'app1');
    const report = await h.run(
      h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
      {},
      {
        env: {
          MONGODB_ATLAS_PUBLIC_API_KEY: 'pubkey1',
          MONGODB_ATLAS_PRIVATE_API_KEY: 'privkey-secret-1',
        },
      },
    );
    expect(rowOf(report, 'app1').action).toBe('rotated');
    expect(h.sim.requests.filter((r) => r.auth === 'digest').length).toBeGreaterThanOrEqual(2);
    expect(h.sim.stats.tokensIssued).toBe(0);
  });

  it.each([
    { nonces: 'one use each', reuse: false },
    { nonces: 'reusable with a rising nc', reuse: true },
  ])('keeps Digest working for 40 concurrent users when nonces are $nonces', async ({ reuse }) => {
    // Concurrent workers share one nonce: with one-use nonces every reuse is answered stale,
    // and with reusable ones an nc overtaken in flight is too. Neither may fail a user.
    h.sim.behaviour.digestNonceReuse = reuse;
    h.sim.addApiKey('pubkey1', 'privkey-secret-1');
    const users = Array.from({ length: 40 }, (_, i) => `app${i}`);
    for (const user of users) h.sim.addUser(P1, user);
    const config = h.config({
      projects: [{ projectId: P1, users }],
      rotation: { concurrency: 40 },
    });
    const report = await h.run(
      config,
      {},
      {
        env: {
          MONGODB_ATLAS_PUBLIC_API_KEY: 'pubkey1',
          MONGODB_ATLAS_PRIVATE_API_KEY: 'privkey-secret-1',
        },
      },
    );
    expect(report.summary).toMatchObject({ users: 40, rotated: 40, failed: 0 });
    const answered = h.sim.requests.filter((r) => r.auth === 'digest').length;
    // One list and one create per user, and once for the project the checks before a mint
    // (its database users and userSecurity), and the run's read of the published rate limit.
    expect(answered).toBe(83);
    // One-use nonces cost a challenge per request; reusable ones far fewer.
    if (reuse) expect(h.sim.stats.digestChallenges).toBeLessThan(answered / 2);
    else expect(h.sim.stats.digestChallenges).toBeGreaterThanOrEqual(answered - 1);
  });

  it('reads the Atlas credential from the credentials secret when the environment has none', async () => {
    h.sim.addUser(P1, 'app1');
    const secretId = `${h.prefix}atlas-api`;
    await sm().send(
      new CreateSecretCommand({
        Name: secretId,
        SecretString: JSON.stringify({ clientId: h.clientId, clientSecret: h.clientSecret }),
      }),
    );
    const config = h.config({ projects: [{ projectId: P1, users: ['app1'] }] });
    const report = await h.run(
      { ...config, atlas: { baseUrl: h.sim.baseUrl, credentialsSecretId: secretId } },
      {},
      { env: {} },
    );
    expect(rowOf(report, 'app1').action).toBe('rotated');
  });

  it('lets the configured consumers read each new secret, and nobody else', async () => {
    h.sim.addUser(P1, 'app1');
    h.sim.addUser(P2, 'etl');
    const reader = 'arn:aws:iam::210987654321:role/app1-service';
    const config = h.config({
      projects: [
        { projectId: P1, users: ['app1'] },
        { projectId: P2, users: ['etl'] },
      ],
    });
    await h.run(
      config,
      {},
      { env: { ...h.atlasEnv, ROTATOR_CONSUMERS: JSON.stringify({ [P1]: [reader] }) } },
    );
    const policy = await sm().send(
      new GetResourcePolicyCommand({ SecretId: h.secretName(P1, 'app1') }),
    );
    expect(JSON.parse(policy.ResourcePolicy ?? '{}').Statement).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { AWS: [reader] },
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      }),
    ]);
    const none = await sm().send(
      new GetResourcePolicyCommand({ SecretId: h.secretName(P2, 'etl') }),
    );
    expect(none.ResourcePolicy ?? '').not.toContain(reader);
  });

  it('reports when its own service account secret expires, when the config names the organization', async () => {
    const org = 'b0123456789abcdef012345b';
    h.sim.addServiceAccount('mdb_sa_id_e0e0e0e0e0e0e0e0e0e0e0e0', 'mdb_sa_sk_expiring-7Qx9', {
      secretExpiresAt: daysFromNow(10),
    });
    h.sim.addUser(P1, 'app1');
    const config = h.config({ projects: [{ projectId: P1, users: ['app1'] }] });
    const env = {
      MONGODB_ATLAS_CLIENT_ID: 'mdb_sa_id_e0e0e0e0e0e0e0e0e0e0e0e0',
      MONGODB_ATLAS_CLIENT_SECRET: 'mdb_sa_sk_expiring-7Qx9',
    };
    const report = await h.run(
      { ...config, atlas: { baseUrl: h.sim.baseUrl, organizationId: org } },
      {},
      { env },
    );
    expect(report.credential).toMatchObject({
      kind: 'serviceAccount',
      clientId: 'mdb_sa_id_e0e0e0e0e0e0e0e0e0e0e0e0',
    });
    expect(report.credential?.daysToExpiry).toBeGreaterThan(9.8);
    expect(report.credential?.daysToExpiry).toBeLessThanOrEqual(10);
    expect(h.sim.requests.find((r) => r.path.includes('/orgs/'))?.status).toBe(200);
    expect(JSON.stringify(report)).not.toContain('7Qx9');

    // Without the organization there is nothing to check; a refusal is reported, not fatal.
    expect((await h.run(config, {}, { env })).credential).toBeUndefined();
    h.sim.injectFault({
      method: 'GET',
      path: '/orgs/',
      action: { type: 'error', status: 403, errorCode: 'USER_UNAUTHORIZED' },
    });
    const refused = await h.run(
      { ...config, atlas: { baseUrl: h.sim.baseUrl, organizationId: org } },
      {},
      { env },
    );
    expect(refused.credential).toMatchObject({ error: 'USER_UNAUTHORIZED' });
    expect(refused.summary.failed).toBe(0);
  });

  it('fetches one OAuth token per run for all users', async () => {
    const users = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'];
    for (const u of users) h.sim.addUser(P1, u);
    await h.run(h.config({ projects: [{ projectId: P1, users }] }));
    expect(h.sim.stats.tokensIssued).toBe(1);
  });
});

describe('orphans across runs (simulator + moto_server)', () => {
  it('counts an orphan in the run that first reports it, not again in the next', async () => {
    await h.seedDue(P1, 'app1', 20);
    // Minted after the secret was created, held by no version: their keys are lost.
    const lost = [await h.sim.mintCertificate(P1, 'app1'), await h.sim.mintCertificate(P1, 'app1')];
    const serials = lost.map((c) => c.serialNumber).sort();
    const config = h.config({ projects: [{ projectId: P1, users: ['app1'] }] });
    const signals = { criticalDays: 7 };

    const first = await h.run(config);
    const row = rowOf(first, 'app1');
    expect(row).toMatchObject({ action: 'failed', errorCode: 'ORPHAN_LIMIT' });
    expect([...(row.newOrphans ?? [])].sort()).toEqual(serials);
    expect(runMetrics(first, new Date(), signals)).toMatchObject({
      Orphans: 2,
      StandingOrphans: 2,
    });
    // Recorded on the secret itself, which ListSecrets returns to the next run.
    const described = await sm().send(
      new DescribeSecretCommand({ SecretId: h.secretName(P1, 'app1') }),
    );
    const tag = described.Tags?.find((t) => t.Key === ORPHANS_TAG)?.Value;
    expect(tag?.split(' ').sort()).toEqual(serials);

    const second = await h.run(config);
    const again = rowOf(second, 'app1');
    expect([...again.orphans].sort()).toEqual(serials);
    expect(again.newOrphans).toBeUndefined();
    expect(runMetrics(second, new Date(), signals)).toMatchObject({
      Orphans: 0,
      StandingOrphans: 2,
    });
    expect(h.sim.count('POST', '/certs')).toBe(0);
  });
});
