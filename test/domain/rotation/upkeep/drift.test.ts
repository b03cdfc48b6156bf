import { describe, expect, it } from 'vitest';
import type { RawConfig } from '../../../../functions/domain/config/schema.js';
import { readerPolicy, wantedPolicy } from '../../../../functions/domain/consumers.js';
import { type ErrorCode, RotatorError } from '../../../../functions/domain/errors.js';
import { DAY_MS, HOUR_MS } from '../../../../functions/domain/renewal.js';
import { auditSlot } from '../../../../functions/domain/rotation/upkeep/drift.js';
import { PENDING } from '../../../../functions/domain/stored-value.js';
import { APP1, P1, T0 } from '../../../support/fakes/fixtures.js';
import { datesFor } from '../../../support/fakes/pki.js';
import {
  type FakeContext,
  fakeWorlds,
  holding,
  rotate,
  rowOf,
  userOf,
} from '../../../support/world.js';

const A = 'arn:aws:iam::111122223333:role/app1-reader';
const B = 'arn:aws:iam::444455556666:role/batch-reader';
const POLICY_TAG = 'atlas-x509-rotator:policy';
const NOT_AFTER_TAG = 'atlas-x509-rotator:not-after';

const world = fakeWorlds();
const users = (...names: string[]): RawConfig => ({ projects: [{ projectId: P1, users: names }] });
const readers =
  (...arns: string[]) =>
  (projectId: string) =>
    projectId === P1 ? arns : [];

/** Noon of a day near T0 on which `secretName` is (or is not) due for its weekly audit. */
const dayFor = (secretName: string, audited: boolean): Date => {
  const first = Math.floor(T0.getTime() / DAY_MS);
  for (let day = first; ; day++) {
    if ((day % 7 === auditSlot(secretName, 7)) === audited) {
      return new Date(day * DAY_MS + 12 * HOUR_MS);
    }
  }
};

/** app1 holds a healthy certificate; its secret carries `policy` and the tag of `tagged`. */
const healthy = async (
  options: { consumers: string[]; policy?: string | undefined; tagged?: string[] | null },
  audited = false,
  config: RawConfig = users('app1'),
): Promise<{ ctx: FakeContext; name: string }> => {
  const name = `atlas-x509/${P1}/app1`;
  const ctx = world({
    config,
    now: dayFor(name, audited),
    consumers: readers(...options.consumers),
  });
  await holding(ctx, APP1, datesFor(ctx.clock, 80));
  const secret = ctx.store.secrets.get(name);
  if (!secret) throw new Error('no secret seeded');
  secret.policy = options.policy;
  if (options.tagged !== null && options.tagged !== undefined) {
    secret.tags.set(POLICY_TAG, wantedPolicy(options.tagged).hash);
  }
  return { ctx, name };
};

const policyCalls = (ctx: FakeContext) => ({
  reads: ctx.store.calls.count('readPolicy'),
  puts: ctx.store.calls.count('putPolicy'),
  tags: ctx.store.calls.count('tag'),
});

describe('drift: the consumers’ resource policy of a secret nothing else touched', () => {
  it('sees a consumer added in config from the tag alone and repairs it on the next run', async () => {
    const { ctx, name } = await healthy({
      consumers: [A, B],
      policy: readerPolicy([A]),
      tagged: [A],
    });
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row.action).toBe('skipped');
    expect(row.reason).toMatch(
      /^not due: .*; repaired the consumers' resource policy \(consumers changed in config\)$/,
    );
    expect(row.drift).toEqual([
      { what: 'resource policy', found: 'consumers changed in config', repaired: true },
    ]);
    expect(policyCalls(ctx)).toEqual({ reads: 0, puts: 1, tags: 1 });
    expect(JSON.parse(ctx.store.secrets.get(name)?.policy ?? '{}').Statement[0].Principal).toEqual({
      AWS: [A, B].sort(),
    });
    expect(ctx.store.policyTag(name)).toBe(wantedPolicy([B, A]).hash);

    const again = rowOf(await rotate(ctx), 'app1');
    expect(again.drift).toBeUndefined();
    expect(again.reason).not.toContain('repaired');
    expect(policyCalls(ctx)).toEqual({ reads: 0, puts: 1, tags: 1 });
  });

  it('costs nothing off the audit day, and one read on it', async () => {
    const off = await healthy({ consumers: [A], policy: readerPolicy([A]), tagged: [A] }, false);
    expect(rowOf(await rotate(off.ctx), 'app1').drift).toBeUndefined();
    expect(policyCalls(off.ctx)).toEqual({ reads: 0, puts: 0, tags: 0 });

    const on = await healthy({ consumers: [A], policy: readerPolicy([A]), tagged: [A] }, true);
    expect(rowOf(await rotate(on.ctx), 'app1').drift).toBeUndefined();
    expect(policyCalls(on.ctx)).toEqual({ reads: 1, puts: 0, tags: 0 });
  });

  it('restores a policy removed by hand on the secret’s audit day (the tag cannot see it)', async () => {
    const { ctx, name } = await healthy({ consumers: [A], policy: undefined, tagged: [A] }, false);
    await rotate(ctx);
    expect(ctx.store.secrets.get(name)?.policy).toBeUndefined();

    ctx.clock.set(dayFor(name, true));
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row.drift).toEqual([
      { what: 'resource policy', found: 'removed outside the rotator', repaired: true },
    ]);
    expect(ctx.store.secrets.get(name)?.policy).toBe(readerPolicy([A]));
    // The tag was right all along: no tag write.
    expect(policyCalls(ctx)).toEqual({ reads: 1, puts: 1, tags: 0 });
  });

  it('audits each secret once in seven daily runs, about a seventh of them a day', async () => {
    const names = Array.from({ length: 28 }, (_, i) => `user-${i}`);
    const ctx = world({ config: users(...names), consumers: readers(A) });
    for (const username of names) {
      await holding(ctx, { projectId: P1, username }, datesFor(ctx.clock, 80));
      const secret = ctx.store.secrets.get(userOf(ctx, P1, username).secretName);
      if (!secret) throw new Error('no secret seeded');
      secret.policy = readerPolicy([A]);
      secret.tags.set(POLICY_TAG, wantedPolicy([A]).hash);
    }
    const perDay: string[][] = [];
    for (let day = 0; day < 7; day++) {
      const before = ctx.store.calls.log.length;
      const report = await rotate(ctx);
      expect(report.summary).toMatchObject({ skipped: 28, failed: 0 });
      perDay.push(
        ctx.store.calls.log
          .slice(before)
          .filter((c) => c.method === 'readPolicy')
          .map((c) => (c.args[0] as { name: string }).name),
      );
      ctx.clock.advance(DAY_MS);
    }
    const audited = perDay.flat();
    expect(audited.sort()).toEqual(names.map((u) => userOf(ctx, P1, u).secretName).sort());
    // 4 a day on average; a stable hash spreads them, none of the days takes most.
    expect(Math.max(...perDay.map((d) => d.length))).toBeLessThanOrEqual(10);
    expect(ctx.store.calls.count('putPolicy')).toBe(0);

    // The period is a knob: 1 reads every secret on every run.
    const daily = world({ config: users(...names.slice(0, 3)), consumers: readers(A) });
    for (const username of names.slice(0, 3)) {
      await holding(daily, { projectId: P1, username }, datesFor(daily.clock, 80));
    }
    await rotate({ ...daily, tuning: { policyAuditDays: 1 } });
    expect(daily.store.calls.count('readPolicy')).toBe(3);
  });

  it('removes the policy it put once the project’s consumers are removed from config', async () => {
    const { ctx, name } = await healthy({ consumers: [], policy: readerPolicy([A]), tagged: [A] });
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row.drift).toEqual([
      { what: 'resource policy', found: 'consumers removed from config', repaired: true },
    ]);
    expect(ctx.store.secrets.get(name)?.policy).toBeUndefined();
    expect(ctx.store.policyTag(name)).toBe('none');
    await rotate(ctx);
    expect(policyCalls(ctx)).toEqual({ reads: 0, puts: 1, tags: 1 });
  });

  it('leaves alone a policy it never put in a project without consumers', async () => {
    const foreign = readerPolicy(['arn:aws:iam::999999999999:role/hand-made']);
    const { ctx, name } = await healthy({ consumers: [], policy: foreign, tagged: null }, true);
    await rotate({ ...ctx, tuning: { policyAuditDays: 1 } });
    expect(policyCalls(ctx)).toEqual({ reads: 0, puts: 0, tags: 0 });
    expect(ctx.store.secrets.get(name)?.policy).toBe(foreign);
  });

  it('after an upgrade (no tag yet), an equivalent policy costs a read and the tag, no drift', async () => {
    // AWS may hand a policy back reformatted: one principal as a string, keys in another order.
    const reformatted = JSON.stringify({
      Statement: {
        Resource: '*',
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        Principal: { AWS: A },
        Effect: 'Allow',
        Sid: 'AtlasX509CertificateReaders',
      },
      Version: '2012-10-17',
    });
    const { ctx, name } = await healthy({ consumers: [A], policy: reformatted, tagged: null });
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row.drift).toBeUndefined();
    expect(policyCalls(ctx)).toEqual({ reads: 1, puts: 0, tags: 1 });
    expect(ctx.store.secrets.get(name)?.policy).toBe(reformatted);
    expect(ctx.store.policyTag(name)).toBe(wantedPolicy([A]).hash);
  });

  it('does not update the tag when the policy write fails, so the next run retries', async () => {
    const { ctx, name } = await healthy({
      consumers: [A, B],
      policy: readerPolicy([A]),
      tagged: [A],
    });
    ctx.store.calls.fail('putPolicy', refused());
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row.action).toBe('skipped');
    expect(row.reason).toContain(
      "could not repair the consumers' resource policy (consumers changed in config): Secrets Manager refused the consumers' resource policy",
    );
    expect(row.reason).toContain('[RESOURCE_POLICY_REFUSED]; the next run retries');
    expect(row.drift).toEqual([
      expect.objectContaining({ repaired: false, errorCode: 'RESOURCE_POLICY_REFUSED' }),
    ]);
    expect(row.drift?.[0]?.remedy).toMatch(/consumer principal/);
    expect(row.errorCode).toBeUndefined();
    expect(ctx.store.policyTag(name)).toBe(wantedPolicy([A]).hash);
    expect(ctx.log.messages('warn')).toContain('drift not repaired; the next run retries');

    const next = rowOf(await rotate(ctx), 'app1');
    expect(next.drift).toEqual([expect.objectContaining({ repaired: true })]);
    expect(ctx.store.policyTag(name)).toBe(wantedPolicy([A, B]).hash);
  });

  it('reports a tag write that failed after the policy was put', async () => {
    const { ctx, name } = await healthy({
      consumers: [A, B],
      policy: readerPolicy([A]),
      tagged: [A],
    });
    ctx.store.calls.fail('tag', refused('SECRET_STORE_FAILED'));
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row.drift?.map((f) => [f.what, f.repaired])).toEqual([
      ['resource policy', true],
      ['tags', false],
    ]);
    expect(ctx.store.policyTag(name)).toBe(wantedPolicy([A]).hash);
  });

  it('puts back a missing expiry tag, listed in drift only', async () => {
    const { ctx, name } = await healthy({ consumers: [] });
    const expected = ctx.store.notAfterTag(name);
    ctx.store.secrets.get(name)?.tags.delete(NOT_AFTER_TAG);
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row.drift).toEqual([{ what: 'tags', found: 'expiry tag missing', repaired: true }]);
    expect(row.reason).not.toContain('repaired');
    expect(ctx.store.notAfterTag(name)).toBe(expected);
  });

  it('writes nothing when the run is short of time, and says what is left', async () => {
    const { ctx } = await healthy({ consumers: [A, B], policy: readerPolicy([A]), tagged: [A] });
    const deadline = ctx.clock.now().getTime() + 100_000;
    // The list takes the run below the time a mint needs: too late to start writing.
    ctx.atlas.calls.on('listCertificates', () => ctx.clock.advance(50_000));
    const row = rowOf(await rotate({ ...ctx, deadline: () => deadline }), 'app1');
    expect(row.drift).toEqual([
      {
        what: 'resource policy',
        found: 'consumers changed in config',
        repaired: false,
        error: 'out of time for this run',
      },
    ]);
    expect(policyCalls(ctx)).toEqual({ reads: 0, puts: 0, tags: 0 });
  });

  it('repairs nothing in a dry run', async () => {
    const { ctx } = await healthy({ consumers: [A, B], policy: readerPolicy([A]), tagged: [A] });
    const row = rowOf(await rotate(ctx, { dryRun: true }), 'app1');
    expect(row.drift).toBeUndefined();
    expect(policyCalls(ctx)).toEqual({ reads: 0, puts: 0, tags: 0 });
  });
});

describe('drift: a secret the run stored a certificate in', () => {
  it('puts the policy on a new secret with its first certificate: no read, no drift', async () => {
    const ctx = world({ consumers: readers(A) });
    const row = rowOf(await rotate(ctx), 'app1');
    const name = userOf(ctx, P1, 'app1').secretName;
    expect(row).toMatchObject({
      action: 'rotated',
      reason: 'stored the first certificate (no certificate stored yet)',
    });
    expect(row.drift).toBeUndefined();
    expect(ctx.store.secrets.get(name)?.policy).toBe(readerPolicy([A]));
    // The policy tag goes with the expiry tag, in one write.
    expect(policyCalls(ctx)).toEqual({ reads: 0, puts: 1, tags: 0 });
    expect(ctx.store.calls.count('tagNotAfter')).toBe(1);
    expect(ctx.store.policyTag(name)).toBe(wantedPolicy([A]).hash);
  });

  it('a first policy write that fails leaves the certificate stored, says so, and is repaired next', async () => {
    const ctx = world({ consumers: readers(A) });
    ctx.store.calls.fail('putPolicy', refused());
    const row = rowOf(await rotate(ctx), 'app1');
    const name = userOf(ctx, P1, 'app1').secretName;
    expect(row.action).toBe('rotated');
    expect(row.reason).toMatch(
      /^stored the first certificate \(no certificate stored yet\); could not repair the consumers' resource policy \(not yet put on the new secret\): .*\[RESOURCE_POLICY_REFUSED\]; the next run retries$/,
    );
    expect(ctx.store.policyTag(name)).toBeUndefined();
    expect(ctx.store.notAfterTag(name)).toBe(row.notAfter);

    const next = rowOf(await rotate(ctx), 'app1');
    expect(next).toMatchObject({ action: 'skipped' });
    expect(next.drift).toEqual([
      { what: 'resource policy', found: 'not as configured', repaired: true },
    ]);
    expect(ctx.store.secrets.get(name)?.policy).toBe(readerPolicy([A]));
    expect(ctx.store.policyTag(name)).toBe(wantedPolicy([A]).hash);
  });

  it('a renewal reads the policy and repairs a hand edit', async () => {
    const ctx = world({ consumers: readers(A) });
    await holding(ctx, APP1, datesFor(ctx.clock, 10));
    const name = userOf(ctx, P1, 'app1').secretName;
    const secret = ctx.store.secrets.get(name);
    if (!secret) throw new Error('no secret seeded');
    secret.policy = readerPolicy([A, 'arn:aws:iam::999999999999:role/added-by-hand']);
    secret.tags.set(POLICY_TAG, wantedPolicy([A]).hash);
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row.action).toBe('rotated');
    expect(row.reason).toMatch(
      /^rotated \(.*\); repaired the consumers' resource policy \(changed outside the rotator\)$/,
    );
    expect(secret.policy).toBe(readerPolicy([A]));
    expect(policyCalls(ctx)).toEqual({ reads: 1, puts: 1, tags: 0 });
    // The tag was right: the expiry write carries no policy tag.
    expect(ctx.store.calls.count('tagNotAfter', (_s, _d, policy) => policy !== undefined)).toBe(0);
  });

  it('a resumed rotation settles the policy too, tagging it with the expiry', async () => {
    const ctx = world({ consumers: readers(A, B) });
    const user = userOf(ctx, P1, 'app1');
    await holding(ctx, APP1, datesFor(ctx.clock, 80));
    ctx.store.secrets.get(user.secretName)?.tags.set(POLICY_TAG, wantedPolicy([A]).hash);
    const now = ctx.clock.now().getTime();
    const pending = await ctx.atlas.seed(P1, 'app1', {
      notBefore: new Date(now - HOUR_MS),
      notAfter: new Date(now + 91 * DAY_MS),
    });
    ctx.store.seedCertificate(user, pending.minted, { stage: PENDING });
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row.action).toBe('resumed');
    expect(row.drift).toEqual([
      { what: 'resource policy', found: 'consumers changed in config', repaired: true },
    ]);
    expect(ctx.store.policyTag(user.secretName)).toBe(wantedPolicy([A, B]).hash);
    // The new policy tag went with the expiry tag, in one write; the tag said enough: no read.
    expect(policyCalls(ctx)).toEqual({ reads: 0, puts: 1, tags: 0 });
    expect(ctx.store.calls.count('tagNotAfter', (_s, _d, policy) => policy !== undefined)).toBe(1);
  });
});

/** Shaped like the adapter's error for MalformedPolicyDocumentException. */
function refused(code: ErrorCode = 'RESOURCE_POLICY_REFUSED'): RotatorError {
  return new RotatorError(
    "Secrets Manager refused the consumers' resource policy for atlas-x509/app1 (MalformedPolicyDocumentException)",
    {
      code,
      remedy:
        "Check that every consumer principal in ROTATOR_CONSUMERS (the construct's consumers) for this project exists; the next run puts the policy again.",
    },
  );
}
