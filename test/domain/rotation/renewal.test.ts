import { describe, expect, it } from 'vitest';
import type { RawConfig } from '../../../functions/domain/config/schema.js';
import { leaseKey } from '../../../functions/domain/rotation/index.js';
import { CURRENT, PENDING, versionIdFor } from '../../../functions/domain/stored-value.js';
import { APP1, P1 } from '../../support/fakes/fixtures.js';
import { datesFor } from '../../support/fakes/pki.js';
import { storeError } from '../../support/fakes/secret-store.js';
import { fakeWorlds, holding, rotate, rowOf, userOf } from '../../support/world.js';

const users = (...names: string[]): RawConfig => ({ projects: [{ projectId: P1, users: names }] });
const world = fakeWorlds();
const app1 = APP1;

describe('engine: minting and renewing', () => {
  it('stores the first certificate of a new secret as AWSCURRENT at once', async () => {
    const ctx = world();
    const report = await rotate(ctx);
    const row = rowOf(report, 'app1');
    const name = userOf(ctx, P1, 'app1').secretName;
    const [minted, ...more] = ctx.atlas.created;
    expect(more).toHaveLength(0);
    expect(row).toMatchObject({
      action: 'rotated',
      reason: 'stored the first certificate (no certificate stored yet)',
      serialNumber: minted?.serialNumber,
      secretArn: ctx.store.secrets.get(name)?.arn,
      orphans: [],
    });
    expect(ctx.store.labels(name)).toEqual({
      [versionIdFor(minted?.serialNumber ?? '')]: [CURRENT],
    });
    expect(ctx.store.notAfterTag(name)).toBe(row.notAfter);
    expect(ctx.store.calls.count('promote')).toBe(0);
    // The stored bundle is exactly what Atlas returned.
    const value = ctx.store.secrets.get(name)?.versions[0]?.value ?? '';
    expect(JSON.parse(value)).toMatchObject({ projectId: P1, pem: minted?.minted.pem });
    expect(ctx.leases.taken).toEqual([leaseKey(P1, 'app1')]);
    expect(ctx.leases.held.size).toBe(0);
    expect(report.summary).toMatchObject({ users: 1, rotated: 1, failed: 0 });
  });

  it('renews a due certificate through AWSPENDING, promoting it once Atlas lists it', async () => {
    const ctx = world();
    const old = await holding(ctx, app1, datesFor(ctx.clock, 10));
    const name = userOf(ctx, P1, 'app1').secretName;
    let beforePromote: Record<string, string[]> = {};
    ctx.store.calls.on('promote', () => {
      beforePromote = ctx.store.labels(name);
    });
    const row = rowOf(await rotate(ctx), 'app1');
    const fresh = ctx.atlas.created[0]?.serialNumber ?? '';
    expect(ctx.atlas.created).toHaveLength(1);
    expect(row.action).toBe('rotated');
    expect(row.reason).toMatch(/^rotated \(10 days left; renewal window opened \d{4}-\d\d-\d\d\)$/);
    expect(row.serialNumber).toBe(fresh);
    expect(beforePromote).toEqual({
      [versionIdFor(old.serialNumber)]: [CURRENT],
      [versionIdFor(fresh)]: [PENDING],
    });
    expect(ctx.store.labels(name)).toEqual({
      [versionIdFor(old.serialNumber)]: ['AWSPREVIOUS'],
      [versionIdFor(fresh)]: [CURRENT],
    });
    expect(ctx.store.notAfterTag(name)).toBe(row.notAfter);
    // The index named the held version; only the re-read inside the lease read a value.
    expect(ctx.store.calls.count('read')).toBe(1);
  });

  it('skips a certificate that is not due, reading no value and taking no lease', async () => {
    const ctx = world();
    const held = await holding(ctx, app1, datesFor(ctx.clock, 80));
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({ action: 'skipped', serialNumber: held.serialNumber });
    expect(row.reason).toMatch(/^not due: 80 days left, renews from \d{4}-\d\d-\d\d$/);
    expect(ctx.atlas.calls.count('createCertificate')).toBe(0);
    expect(ctx.store.calls.count('read')).toBe(0);
    expect(ctx.leases.calls.log).toHaveLength(0);
  });

  it('plans in a dry run: would mint, would finish; nothing written, no lease', async () => {
    const ctx = world({ config: users('app1', 'app2') });
    const app2 = userOf(ctx, P1, 'app2');
    await holding(ctx, app2, datesFor(ctx.clock, 80));
    const pending = await ctx.atlas.seed(P1, 'app2', datesFor(ctx.clock, 90));
    ctx.store.seedCertificate(app2, pending.minted, { stage: PENDING });
    const before = ctx.store.labels(app2.secretName);

    const report = await rotate(ctx, { dryRun: true });
    expect(report.dryRun).toBe(true);
    expect(rowOf(report, 'app1')).toMatchObject({
      action: 'planned',
      reason: 'would mint: no certificate stored yet',
    });
    expect(rowOf(report, 'app2')).toMatchObject({
      action: 'planned',
      reason: 'would finish: an interrupted rotation left a pending version',
    });
    expect(ctx.store.labels(app2.secretName)).toEqual(before);
    expect(ctx.store.secrets.size).toBe(1);
    const writes = ['create', 'put', 'promote', 'dropPending', 'tagNotAfter'] as const;
    expect(writes.map((m) => ctx.store.calls.count(m))).toEqual([0, 0, 0, 0, 0]);
    expect(ctx.atlas.calls.count('createCertificate')).toBe(0);
    expect(ctx.leases.calls.log).toHaveLength(0);
  });

  it('forced with only: renews that not-due user, and runs no other', async () => {
    const ctx = world({ config: users('app1', 'app2') });
    const held = await holding(ctx, app1, datesFor(ctx.clock, 80));
    await holding(ctx, { projectId: P1, username: 'app2' }, datesFor(ctx.clock, 80));
    const report = await rotate(ctx, { force: true, only: [app1] });
    expect(report.users.map((u) => u.username)).toEqual(['app1']);
    const row = rowOf(report, 'app1');
    expect(row).toMatchObject({ action: 'rotated', reason: 'rotated (forced by the operator)' });
    expect(row.serialNumber).not.toBe(held.serialNumber);
    expect(ctx.store.serialAt(userOf(ctx, P1, 'app1').secretName)).toBe(row.serialNumber);
    expect(ctx.atlas.calls.count('listCertificates', (_p, u) => u === 'app2')).toBe(0);
  });

  it('handles the most urgent first: no secret, soonest tagged expiry, untagged', async () => {
    const ctx = world({
      config: { ...users('later', 'untagged', 'soon', 'none'), rotation: { concurrency: 1 } },
    });
    const ref = (username: string) => ({ projectId: P1, username });
    await holding(ctx, ref('later'), datesFor(ctx.clock, 80));
    await holding(ctx, ref('untagged'), datesFor(ctx.clock, 70));
    ctx.store.secrets.get(userOf(ctx, P1, 'untagged').secretName)?.tags.clear();
    await holding(ctx, ref('soon'), datesFor(ctx.clock, 10));
    const report = await rotate(ctx);
    const started = ctx.atlas.calls.log
      .filter((c) => c.method === 'listCertificates')
      .map((c) => String(c.args[1]));
    expect([...new Set(started)]).toEqual(['none', 'soon', 'later', 'untagged']);
    // Rows keep config order whatever order users finished in.
    expect(report.users.map((u) => `${u.username}:${u.action}`)).toEqual([
      'later:skipped',
      'untagged:skipped',
      'soon:rotated',
      'none:rotated',
    ]);
  });

  it('reads secrets one by one when the index cannot be listed', async () => {
    const ctx = world({ config: users('app1', 'app2') });
    ctx.store.calls.fail('index', storeError('SECRET_ACCESS_DENIED', 'ListSecrets'));
    await holding(ctx, app1, datesFor(ctx.clock, 80));
    const report = await rotate(ctx);
    expect(rowOf(report, 'app1').action).toBe('skipped');
    expect(rowOf(report, 'app2')).toMatchObject({
      action: 'rotated',
      reason: 'stored the first certificate (no certificate stored yet)',
    });
    expect(ctx.store.calls.count('read', (name) => name.endsWith('/app1'))).toBe(1);
    expect(ctx.store.calls.count('read', (name) => name.endsWith('/app2'))).toBe(1);
    const warned = ctx.log.entries.find((e) => e.message.startsWith('cannot list secrets'));
    expect(warned?.attributes).toEqual({ errorCode: 'SECRET_ACCESS_DENIED' });
  });

  it('skips a new secret another run filled meanwhile (create returns its state)', async () => {
    const ctx = world();
    const user = userOf(ctx, P1, 'app1');
    let other = '';
    ctx.store.calls.on('create', async () => {
      const cert = await ctx.atlas.seed(P1, 'app1', datesFor(ctx.clock, 91));
      ctx.store.seedCertificate(user, cert.minted);
      other = cert.serialNumber;
    });
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row.action).toBe('skipped');
    expect(row.reason).toContain('the secret turned out to hold a certificate');
    expect(row.serialNumber).toBe(other);
    expect(ctx.atlas.calls.count('createCertificate')).toBe(0);
    expect(ctx.store.serialAt(user.secretName)).toBe(other);
  });

  it('rotates even when the expiry tag or the lease release fails (both best effort)', async () => {
    const ctx = world();
    ctx.store.calls.fail('tagNotAfter', storeError('SECRET_ACCESS_DENIED', 'TagResource'));
    ctx.leases.calls.fail('release', new Error('ThrottlingException'));
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row.action).toBe('rotated');
    expect(ctx.store.notAfterTag(userOf(ctx, P1, 'app1').secretName)).toBeUndefined();
    expect(ctx.log.messages('warn')).toContain('could not release lease; it lapses on its own');
    expect(ctx.leases.held.has(leaseKey(P1, 'app1'))).toBe(true);
  });
});
