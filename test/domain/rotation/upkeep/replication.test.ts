import { describe, expect, it } from 'vitest';
import { SecretStoreError } from '../../../../functions/adapters/aws/secret-store/errors.js';
import { runEvents, runMetrics } from '../../../../functions/adapters/signals.js';
import type { RawConfig } from '../../../../functions/domain/config/schema.js';
import { DAY_MS, HOUR_MS } from '../../../../functions/domain/renewal.js';
import { replicaTagValue, versionMark } from '../../../../functions/domain/replicas.js';
import { replicaChecksOn } from '../../../../functions/domain/rotation/upkeep/replication.js';
import { P1 } from '../../../support/fakes/fixtures.js';
import { datesFor } from '../../../support/fakes/pki.js';
import {
  type FakeContext,
  fakeWorlds,
  holding,
  rotate,
  rowOf,
  userOf,
} from '../../../support/world.js';

// The fake store's secrets live in eu-west-1 (their ARNs say so): replicas go elsewhere.
const W2 = 'us-west-2';
const S1 = 'ap-south-1';
const REPLICAS_TAG = 'atlas-x509-rotator:replicas';

const world = fakeWorlds();

type Replicas = NonNullable<NonNullable<RawConfig['defaults']>['replicaRegions']>;

const config = (replicaRegions: Replicas = [], ...names: string[]): RawConfig =>
  ({
    defaults: { replicaRegions },
    projects: [{ projectId: P1, users: names.length > 0 ? names : ['app1'] }],
  }) as RawConfig;

const arnIn = (ctx: FakeContext, region: string, username = 'app1'): string =>
  (ctx.store.secrets.get(userOf(ctx, P1, username).secretName)?.arn ?? '').replace(
    ':eu-west-1:',
    `:${region}:`,
  );

/** Store calls of the replica kind (and tag writes) since `from`. */
const replicaCalls = (ctx: FakeContext, from = 0) =>
  ctx.store.calls.log
    .slice(from)
    .map((c) => c.method)
    .filter((m) => ['replicationStatus', 'replicate', 'tag', 'tagNotAfter'].includes(m));

/** The user holds a healthy certificate replicated to `regions`, the tag as a settled run leaves it. */
const replicated = async (
  ctx: FakeContext,
  regions: string[],
  username = 'app1',
  dates = datesFor(ctx.clock, 80),
) => {
  await holding(ctx, { projectId: P1, username }, dates);
  const name = userOf(ctx, P1, username).secretName;
  const secret = ctx.store.secrets.get(name);
  const current = ctx.store.versionAt(name);
  if (!secret || !current) throw new Error('no secret seeded');
  for (const region of regions) ctx.store.setReplica(name, region, 'InSync');
  secret.tags.set(REPLICAS_TAG, replicaTagValue({ regions, verified: versionMark(current) }));
  return name;
};

/** Noon of the first day from the clock's on which `name` is checked again (or none is). */
const checkDay = (ctx: FakeContext, names: string[], name: string, due: boolean): Date => {
  for (let day = Math.floor(ctx.clock.now().getTime() / DAY_MS); ; day++) {
    const picked = replicaChecksOn(names, day);
    if (due ? picked.has(name) : picked.size === 0) return new Date(day * DAY_MS + 12 * HOUR_MS);
  }
};

describe('replicas: new secrets and renewals', () => {
  it('creates a new secret with its replicas and keys, and checks them once on the next run', async () => {
    const ctx = world({ config: config([W2, { region: S1, kmsKeyId: 'alias/certs' }]) });
    ctx.atlas.addUser(P1, 'app1');
    const first = rowOf(await rotate(ctx), 'app1');
    expect(first.action).toBe('rotated');
    const [[, options]] = ctx.store.calls.log
      .filter((c) => c.method === 'create')
      .map((c) => c.args) as [[string, { replicaRegions: unknown }]];
    expect(options.replicaRegions).toEqual([
      { region: W2, kmsKeyId: undefined },
      { region: S1, kmsKeyId: 'alias/certs' },
    ]);
    expect(first.replicaArns).toEqual([arnIn(ctx, S1), arnIn(ctx, W2)]);
    const name = userOf(ctx, P1, 'app1').secretName;
    expect(ctx.store.replicasTag(name)).toBe(`${S1} ${W2}`);

    // The next run sees the tag verifies no version: one status read, then the tag records it.
    const mark = ctx.store.calls.log.length;
    const next = rowOf(await rotate(ctx), 'app1');
    expect(next).toMatchObject({ action: 'skipped', replicaArns: first.replicaArns });
    expect(next.drift).toBeUndefined();
    expect(replicaCalls(ctx, mark)).toEqual(['replicationStatus', 'tag']);
    const current = ctx.store.versionAt(name) ?? '';
    expect(ctx.store.replicasTag(name)).toBe(`${S1} ${W2} @${versionMark(current)}`);

    // Settled: no request, but on the secret's rolling check day (1 in 100).
    const settled = ctx.store.calls.log.length;
    await rotate(ctx);
    const day = Math.floor(ctx.clock.now().getTime() / DAY_MS);
    const checkedToday = replicaChecksOn([name], day).size === 1;
    expect(replicaCalls(ctx, settled)).toEqual(checkedToday ? ['replicationStatus'] : []);
  });

  it('checks the replicas again on the run after a renewal, not before', async () => {
    const ctx = world({ config: config([W2]) });
    const name = await replicated(ctx, [W2]);
    const before = ctx.store.replicasTag(name);
    ctx.clock.advance(70 * DAY_MS);
    const renewed = rowOf(await rotate(ctx), 'app1');
    expect(renewed.action).toBe('rotated');
    expect(renewed.replicaArns).toEqual([arnIn(ctx, W2)]);
    expect(ctx.store.calls.count('replicationStatus')).toBe(0);
    expect(ctx.store.replicasTag(name)).toBe(before);

    ctx.clock.advance(DAY_MS);
    const mark = ctx.store.calls.log.length;
    expect(rowOf(await rotate(ctx), 'app1').drift).toBeUndefined();
    expect(replicaCalls(ctx, mark)).toEqual(['replicationStatus', 'tag']);
    expect(ctx.store.replicasTag(name)).toBe(
      `${W2} @${versionMark(ctx.store.versionAt(name) ?? '')}`,
    );
  });
});

describe('replicas: reconciled on existing secrets', () => {
  it('replicates an existing secret to a Region added later, and only to it', async () => {
    const ctx = world({ config: config([W2, S1]) });
    const name = await replicated(ctx, [W2]);
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row.action).toBe('skipped');
    expect(row.drift).toEqual([
      { what: 'replicas', found: `not yet replicated to ${S1}`, repaired: true },
    ]);
    expect(row.reason).toMatch(/; repaired the replicas \(not yet replicated to ap-south-1\)$/);
    const asked = ctx.store.calls.log.find((c) => c.method === 'replicate')?.args[1];
    expect(asked).toEqual([{ region: S1, kmsKeyId: undefined }]);
    expect(replicaCalls(ctx)).toEqual(['replicationStatus', 'replicate', 'tag']);
    expect(row.replicaArns).toEqual([arnIn(ctx, S1), arnIn(ctx, W2)]);
    // The fake copies at once, so this run sees both in sync and records it.
    expect(ctx.store.replicasTag(name)).toBe(
      `${S1} ${W2} @${versionMark(ctx.store.versionAt(name) ?? '')}`,
    );
  });

  it('fails the row for a replica Secrets Manager reports Failed, with what to do', async () => {
    const ctx = world({ config: config([W2]) });
    const name = await replicated(ctx, [W2]);
    ctx.store.setReplica(name, W2, 'Failed', 'Access to KMS is not allowed');
    ctx.store.secrets.get(name)?.tags.set(REPLICAS_TAG, W2); // a renewal since the last check
    const report = await rotate(ctx);
    const row = rowOf(report, 'app1');
    expect(row).toMatchObject({ action: 'failed', errorCode: 'REPLICA_FAILED' });
    expect(row.serialNumber).toBeDefined();
    expect(row.reason).toContain(
      `replicas: replica in ${W2} failed: Access to KMS is not allowed: Secrets Manager reports the replica Failed [REPLICA_FAILED]`,
    );
    expect(row.remedy).toContain(`remove-regions-from-replication --secret-id ${row.secretArn}`);
    expect(row.replicaArns).toBeUndefined();
    // Never verified: the next run looks again (and fails again until it is fixed).
    expect(ctx.store.replicasTag(name)).toBe(W2);
    expect(runMetrics(report, ctx.clock.now(), { criticalDays: 7 }).FailedUsers).toBe(1);
    expect(runEvents(report, ctx.clock.now()).map((e) => e.detailType)).toEqual([
      'Atlas X509 Rotation Failed',
    ]);
  });

  it('reports a replica still copying without failing the row, and checks it on the next run', async () => {
    const ctx = world({ config: config([W2]) });
    const name = await replicated(ctx, [W2]);
    ctx.store.setReplica(name, W2, 'InProgress');
    ctx.store.secrets.get(name)?.tags.set(REPLICAS_TAG, W2);
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row.action).toBe('skipped');
    expect(row.drift).toEqual([
      {
        what: 'replicas',
        found: `replication to ${W2} not in sync yet (InProgress)`,
        repaired: false,
        error: 'checked again on the next run',
      },
    ]);
    expect(ctx.store.calls.count('tag')).toBe(0);

    ctx.store.setReplica(name, W2, 'InSync');
    expect(rowOf(await rotate(ctx), 'app1').drift).toBeUndefined();
    expect(ctx.store.calls.count('replicationStatus')).toBe(2);
    expect(ctx.store.replicasTag(name)).toMatch(/^us-west-2 @[0-9a-f]{12}$/);
  });

  // #25.9: on main a transient error here failed the row (SECRET_STORE_FAILED) and paged
  // FailedUsers for a secret the run did not otherwise touch.
  it('a replica check a transient error kept from running is a warning, checked again on the next run', async () => {
    const ctx = world({ config: config([W2]) });
    const name = await replicated(ctx, [W2]);
    ctx.store.secrets.get(name)?.tags.set(REPLICAS_TAG, W2); // a renewal since the last check
    const transient = new SecretStoreError(
      `Secrets Manager DescribeSecret on ${name} failed (InternalServiceError)`,
      'SECRET_STORE_FAILED',
      'Retry the run.',
    );
    ctx.store.calls.fail('replicationStatus', transient);
    const report = await rotate(ctx);
    const row = rowOf(report, 'app1');
    expect(row.action).toBe('skipped');
    expect(row.errorCode).toBeUndefined();
    expect(row.drift).toEqual([
      {
        what: 'replicas',
        found: 'could not be checked',
        repaired: false,
        error: `Secrets Manager DescribeSecret on ${name} failed (InternalServiceError) [SECRET_STORE_FAILED]; a warning: checked again on the next run`,
      },
    ]);
    expect(runMetrics(report, ctx.clock.now(), { criticalDays: 7 }).FailedUsers).toBe(0);
    expect(runEvents(report, ctx.clock.now())).toEqual([]);
    // The next run checks it again, and records it in sync.
    expect(rowOf(await rotate(ctx), 'app1').drift).toBeUndefined();
    expect(ctx.store.calls.count('replicationStatus')).toBe(2);
    expect(ctx.store.replicasTag(name)).toMatch(/^us-west-2 @[0-9a-f]{12}$/);
  });

  it('a rolling check a transient error kept from running drops the mark, so the next run checks again', async () => {
    const users = ['app1', 'u1', 'u2', 'u3'];
    const ctx = world({ config: config([W2], ...users) });
    for (const u of users) await replicated(ctx, [W2], u);
    const names = users.map((u) => userOf(ctx, P1, u).secretName);
    const name = userOf(ctx, P1, 'app1').secretName;
    ctx.clock.set(checkDay(ctx, names, name, true));
    ctx.store.calls.fail(
      'replicationStatus',
      new SecretStoreError('Secrets Manager DescribeSecret failed', 'SECRET_STORE_FAILED', 'r'),
    );
    expect(rowOf(await rotate(ctx), 'app1').action).toBe('skipped');
    expect(ctx.store.replicasTag(name)).toBe(W2);
    // The next day is not its check day, yet it is checked (and verified) again.
    ctx.clock.advance(DAY_MS);
    const mark = ctx.store.calls.log.length;
    expect(rowOf(await rotate(ctx), 'app1').drift).toBeUndefined();
    expect(replicaCalls(ctx, mark)).toContain('replicationStatus');
    expect(ctx.store.replicasTag(name)).toMatch(/^us-west-2 @[0-9a-f]{12}$/);
  });

  it('a transient error replicating to a new Region is a warning; a confirmed refusal still fails the row', async () => {
    const ctx = world({ config: config([W2, S1]) });
    const name = await replicated(ctx, [W2]);
    ctx.store.calls.fail(
      'replicate',
      new SecretStoreError(
        'Secrets Manager ReplicateSecretToRegions failed',
        'SECRET_STORE_FAILED',
        'r',
      ),
    );
    const warned = rowOf(await rotate(ctx), 'app1');
    expect(warned.action).toBe('skipped');
    expect(warned.drift?.[0]).toMatchObject({
      found: `not yet replicated to ${S1}`,
      repaired: false,
      error: expect.stringContaining('checked again on the next run'),
    });
    ctx.store.calls.fail(
      'replicate',
      new SecretStoreError('Secrets Manager refused to replicate', 'REPLICA_REGION_REFUSED', 'r'),
    );
    expect(rowOf(await rotate(ctx), 'app1')).toMatchObject({
      action: 'failed',
      errorCode: 'REPLICA_REGION_REFUSED',
    });
    // S1 is not in the tag: every run tries it again until it is there.
    expect(ctx.store.replicasTag(name)).toBe(W2);
  });

  it('puts back a replica removed by hand on its check day, and costs nothing before', async () => {
    const users = ['app1', 'u1', 'u2', 'u3'];
    const ctx = world({ config: config([W2], ...users) });
    for (const u of users) await replicated(ctx, [W2], u);
    const names = users.map((u) => userOf(ctx, P1, u).secretName);
    const name = userOf(ctx, P1, 'app1').secretName;
    ctx.store.secrets.get(name)?.replicas?.delete(W2);
    ctx.clock.set(checkDay(ctx, names, name, false));
    const off = await rotate(ctx);
    expect(rowOf(off, 'app1').drift).toBeUndefined();
    expect(replicaCalls(ctx)).toEqual([]);

    const mark = ctx.store.calls.log.length;
    ctx.clock.set(checkDay(ctx, names, name, true));
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row.drift).toEqual([
      { what: 'replicas', found: `replica in ${W2} missing`, repaired: true },
    ]);
    expect(replicaCalls(ctx, mark)).toEqual(['replicationStatus', 'replicate']);
    expect(ctx.store.secrets.get(name)?.replicas?.get(W2)?.status).toBe('InSync');
  });

  it('leaves replicas of Regions no longer configured in place, and a user with [] alone', async () => {
    const ctx = world({
      config: {
        defaults: { replicaRegions: [W2] },
        projects: [{ projectId: P1, users: [{ username: 'app1', replicaRegions: [] }] }],
      },
    });
    const name = await replicated(ctx, [S1]);
    ctx.store.secrets.get(name)?.tags.set(REPLICAS_TAG, S1);
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row.drift).toBeUndefined();
    expect(replicaCalls(ctx)).toEqual([]);
    expect(ctx.store.secrets.get(name)?.replicas?.has(S1)).toBe(true);
    expect(row.replicaArns).toEqual([arnIn(ctx, S1)]);
  });

  it('replicates nothing once out of time, and says which Regions wait', async () => {
    let late = false;
    const ctx = world({
      config: config([W2, S1]),
      // Time runs out between the user's assessment and its reconciliation.
      deadline: () => ctx.clock.now().getTime() + (late ? 0 : 3_600_000),
    });
    await replicated(ctx, [W2]);
    ctx.atlas.calls.on('listCertificates', () => {
      late = true;
    });
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row.action).toBe('skipped');
    expect(row.drift).toEqual([
      {
        what: 'replicas',
        found: `not yet replicated to ${S1}`,
        repaired: false,
        error: 'out of time for this run',
      },
    ]);
    expect(replicaCalls(ctx)).toEqual([]);
  });

  it('writes nothing in a dry run', async () => {
    const ctx = world({ config: config([W2, S1]) });
    await replicated(ctx, [W2]);
    const row = rowOf(await rotate(ctx, { dryRun: true }), 'app1');
    expect(row.action).toBe('skipped');
    expect(replicaCalls(ctx)).toEqual([]);
    expect(row.replicaArns).toEqual([arnIn(ctx, W2)]);
  });
});

describe('replicas: what a steady state costs', () => {
  it('checks one secret per 100 users a run, a different one each run, and nothing else', async () => {
    const users = Array.from({ length: 100 }, (_, i) => `user-${i}`);
    const ctx = world({ config: config([W2], ...users) });
    // One certificate listed for every user (nothing validates it when nobody is due).
    const cert = await ctx.atlas.seed(P1, 'user-0', datesFor(ctx.clock, 300, 365));
    for (const username of users) {
      if (username !== 'user-0') ctx.atlas.alsoList(P1, username, cert);
      const name = userOf(ctx, P1, username).secretName;
      const secret = ctx.store.seedCertificate(userOf(ctx, P1, username), cert.minted);
      secret.tags.set(
        REPLICAS_TAG,
        replicaTagValue({ regions: [W2], verified: versionMark(ctx.store.versionAt(name) ?? '') }),
      );
      ctx.store.setReplica(name, W2, 'InSync');
    }
    const perRun: number[] = [];
    const checked = new Map<string, number>();
    for (let day = 0; day < 2; day++) {
      const from = ctx.store.calls.log.length;
      const report = await rotate(ctx);
      expect(report.summary).toMatchObject({ skipped: 100, failed: 0 });
      const calls = ctx.store.calls.log.slice(from).map((c) => c);
      // The index and the rolling check, nothing else: no read, no tag, no write.
      expect([...new Set(calls.map((c) => c.method))].sort()).toEqual([
        'index',
        'replicationStatus',
      ]);
      const reads = calls.filter((c) => c.method === 'replicationStatus');
      for (const c of reads) {
        const name = (c.args[0] as { name: string }).name;
        checked.set(name, (checked.get(name) ?? 0) + 1);
      }
      perRun.push(reads.length);
      ctx.clock.advance(DAY_MS);
    }
    // 100 users: one ListSecrets page and one check a run, 0.02 Secrets Manager requests a
    // user; each secret's turn comes once in 100 runs (the tiling below).
    expect(perRun).toEqual([1, 1]);
    expect(checked.size).toBe(2);
    expect(new Set(checked.values())).toEqual(new Set([1]));
  });

  it.each([1, 7, 100, 250])('checks each of %i names exactly once in any 100 days', (n) => {
    const names = Array.from({ length: n }, (_, i) => `n-${i}`);
    const seen = new Map<string, number>();
    const perDay: number[] = [];
    for (let day = 20_655; day < 20_755; day++) {
      const picked = replicaChecksOn(names, day);
      perDay.push(picked.size);
      for (const name of picked) seen.set(name, (seen.get(name) ?? 0) + 1);
    }
    expect(seen.size).toBe(n);
    expect(new Set(seen.values())).toEqual(new Set([1]));
    // Never more than ⌈n/100⌉ in a run.
    expect(Math.max(...perDay)).toBe(Math.ceil(n / 100));
    expect(replicaChecksOn([], 7).size).toBe(0);
  });
});
