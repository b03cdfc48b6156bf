import { describe, expect, it } from 'vitest';
import { HOUR_MS } from '../../../functions/domain/renewal.js';
import { CURRENT, PENDING, versionIdFor } from '../../../functions/domain/stored-value.js';
import { APP1, P1 } from '../../support/fakes/fixtures.js';
import { datesFor } from '../../support/fakes/pki.js';
import { storeError } from '../../support/fakes/secret-store.js';
import {
  type FakeContext,
  fakeWorlds,
  holding,
  rotate,
  rowOf,
  userOf,
} from '../../support/world.js';

const newWorld = fakeWorlds();

const app1 = APP1;
const justMinted = (ctx: FakeContext) => {
  const now = ctx.clock.now().getTime();
  return { notBefore: new Date(now - HOUR_MS), notAfter: new Date(now + 91 * 24 * HOUR_MS) };
};

/** app1 holds a certificate with `daysLeft`, and a previous run left `pending` as AWSPENDING. */
const interrupted = async (daysLeft: number, pending = { listed: true, minutesAgo: 0 }) => {
  const ctx = newWorld();
  const user = userOf(ctx, P1, 'app1');
  const held = await holding(ctx, app1, datesFor(ctx.clock, daysLeft));
  ctx.clock.advance(-pending.minutesAgo * 60_000);
  const dates = justMinted(ctx);
  ctx.clock.advance(pending.minutesAgo * 60_000);
  const cert = await ctx.atlas.seed(P1, 'app1', dates, {
    hiddenFor: pending.listed ? 0 : Number.POSITIVE_INFINITY,
  });
  ctx.store.seedCertificate(user, cert.minted, { stage: PENDING });
  return { ctx, user, held, pending: cert };
};

describe('engine: resuming an interrupted rotation', () => {
  it('promotes a pending version Atlas lists, minting nothing', async () => {
    const { ctx, user, held, pending } = await interrupted(80);
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({
      action: 'resumed',
      reason: `finished the interrupted rotation: certificate ${pending.serialNumber} is now current`,
      serialNumber: pending.serialNumber,
      notAfter: pending.notAfter.toISOString(),
      orphans: [],
    });
    expect(ctx.store.labels(user.secretName)).toEqual({
      [versionIdFor(held.serialNumber)]: ['AWSPREVIOUS'],
      [versionIdFor(pending.serialNumber)]: [CURRENT],
    });
    expect(ctx.store.notAfterTag(user.secretName)).toBe(pending.notAfter.toISOString());
    expect(ctx.atlas.calls.count('createCertificate')).toBe(0);
  });

  it('leaves a pending version Atlas does not list yet (within the grace), then drops it', async () => {
    const { ctx, user, held, pending } = await interrupted(80, { listed: false, minutesAgo: 10 });
    const first = rowOf(await rotate(ctx), 'app1');
    expect(first).toMatchObject({
      action: 'failed',
      errorCode: 'PENDING_NOT_LISTED',
      reason: `pending certificate ${pending.serialNumber} is not listed by Atlas yet; left pending`,
      serialNumber: held.serialNumber,
    });
    expect(ctx.store.serialAt(user.secretName, PENDING)).toBe(pending.serialNumber);

    // An hour later it is still unlisted: not a lag any more, so it is dropped.
    ctx.clock.advance(HOUR_MS);
    const second = rowOf(await rotate(ctx), 'app1');
    expect(second.action).toBe('skipped');
    expect(second.reason).toMatch(/^dropped an unusable pending version; not due: /);
    expect(ctx.store.versionAt(user.secretName, PENDING)).toBeUndefined();
    expect(ctx.store.serialAt(user.secretName)).toBe(held.serialNumber);
    const warned = ctx.log.entries.find((e) => e.message.startsWith('abandoning'));
    expect(warned?.attributes.problem).toBe('Atlas does not list its serial');
  });

  type Spoil = (s: Awaited<ReturnType<typeof interrupted>>) => Promise<void> | void;
  const spoilers: [string, Spoil, string][] = [
    [
      'a version id that is not its serial',
      (s) =>
        void s.ctx.store.seedCertificate(s.user, s.pending.minted, {
          stage: PENDING,
          versionId: versionIdFor('4242'),
        }),
      'its version id does not match its serial',
    ],
    [
      'a certificate already inside its renewal window',
      async (s) => {
        const stale = await s.ctx.atlas.seed(P1, 'app1', datesFor(s.ctx.clock, 5));
        s.ctx.store.seedCertificate(s.user, stale.minted, { stage: PENDING });
      },
      'already inside its renewal window',
    ],
  ];

  it.each([
    ['not JSON', '{', 'the pending value is not JSON'],
    [
      'no certificate of ours',
      '{"username":"app1","password":"x"}',
      'not a certificate written by this rotator',
    ],
  ])(
    'refuses, without dropping it, a pending version holding %s (another tool is rotating)',
    async (_, text, problem) => {
      const s = await interrupted(80);
      s.ctx.store.seedValue(s.user.secretName, text, { stage: PENDING });
      const pendingId = s.ctx.store.versionAt(s.user.secretName, PENDING);
      const row = rowOf(await rotate(s.ctx), 'app1');
      expect(row).toMatchObject({
        action: 'failed',
        errorCode: 'FOREIGN_PENDING_VERSION',
        serialNumber: s.held.serialNumber,
      });
      expect(row.reason).toContain(problem);
      expect(row.remedy).toContain(`--remove-from-version-id ${pendingId}`);
      expect(s.ctx.store.versionAt(s.user.secretName, PENDING)).toBe(pendingId);
      expect(s.ctx.store.calls.count('dropPending')).toBe(0);
      expect(s.ctx.atlas.calls.count('createCertificate')).toBe(0);
    },
  );

  it.each(spoilers)(
    'drops a pending version holding %s, then decides afresh',
    async (_, spoil, problem) => {
      const s = await interrupted(80);
      await spoil(s);
      const pendingId = s.ctx.store.versionAt(s.user.secretName, PENDING);
      const row = rowOf(await rotate(s.ctx), 'app1');
      expect(row.action).toBe('skipped');
      expect(row.reason).toMatch(/^dropped an unusable pending version; not due: 80 days left/);
      expect(row.serialNumber).toBe(s.held.serialNumber);
      expect(s.ctx.store.calls.count('dropPending', (_st, id) => id === pendingId)).toBe(1);
      expect(s.ctx.store.versionAt(s.user.secretName, PENDING)).toBeUndefined();
      const warned = s.ctx.log.entries.find((e) => e.message.startsWith('abandoning'));
      expect(String(warned?.attributes.problem)).toContain(problem);
      expect(s.ctx.atlas.calls.count('createCertificate')).toBe(0);
    },
  );

  it('drops an unusable pending version and mints when the held certificate is due', async () => {
    const s = await interrupted(10);
    // Ours, but unusable: its version id names another serial.
    s.ctx.store.seedCertificate(s.user, s.pending.minted, {
      stage: PENDING,
      versionId: versionIdFor('4242'),
    });
    const row = rowOf(await rotate(s.ctx), 'app1');
    const fresh = s.ctx.atlas.created[0]?.serialNumber;
    expect(s.ctx.atlas.created).toHaveLength(1);
    expect(row).toMatchObject({ action: 'rotated', serialNumber: fresh });
    expect(s.ctx.store.serialAt(s.user.secretName)).toBe(fresh);
    expect(s.ctx.store.versionAt(s.user.secretName, PENDING)).toBeUndefined();
  });

  it('stores a new certificate Atlas does not list yet as AWSPENDING; the next run resumes it', async () => {
    const ctx = newWorld();
    const user = userOf(ctx, P1, 'app1');
    const held = await holding(ctx, app1, datesFor(ctx.clock, 10));
    ctx.atlas.nextCreate({ kind: 'unlisted', lists: 3 });
    const first = rowOf(await rotate(ctx), 'app1');
    const fresh = ctx.atlas.created[0]?.serialNumber ?? '';
    expect(first).toMatchObject({
      action: 'failed',
      errorCode: 'NEW_CERTIFICATE_NOT_LISTED',
      reason: `Atlas does not list the new certificate ${fresh} yet; stored as AWSPENDING, not made current`,
      serialNumber: held.serialNumber,
      orphans: [],
    });
    expect(ctx.store.serialAt(user.secretName)).toBe(held.serialNumber);
    expect(ctx.store.serialAt(user.secretName, PENDING)).toBe(fresh);
    // Three lists after the mint, two default 2 s waits between them, on the fake clock.
    expect(ctx.atlas.calls.count('listCertificates')).toBe(4);
    expect(ctx.clock.slept).toBe(4000);

    const second = rowOf(await rotate(ctx), 'app1');
    expect(second).toMatchObject({ action: 'resumed', serialNumber: fresh });
    expect(ctx.store.serialAt(user.secretName)).toBe(fresh);
    expect(ctx.atlas.created).toHaveLength(1);
  });

  it('confirms with the tuned attempts and delay', async () => {
    const ctx = newWorld({ tuning: { confirmAttempts: 5, confirmDelayMs: 10 } });
    await holding(ctx, app1, datesFor(ctx.clock, 10));
    ctx.atlas.nextCreate({ kind: 'unlisted', lists: 4 });
    expect(rowOf(await rotate(ctx), 'app1').action).toBe('rotated');
    expect(ctx.clock.slept).toBe(40);
  });

  it('a failed promotion leaves the stored certificate pending (not lost); the next run resumes', async () => {
    const ctx = newWorld();
    const user = userOf(ctx, P1, 'app1');
    const held = await holding(ctx, app1, datesFor(ctx.clock, 10));
    ctx.store.calls.fail('promote', storeError('SECRET_STORE_FAILED', 'UpdateSecretVersionStage'));
    const first = rowOf(await rotate(ctx), 'app1');
    const fresh = ctx.atlas.created[0]?.serialNumber;
    expect(first).toMatchObject({
      action: 'failed',
      errorCode: 'SECRET_STORE_FAILED',
      serialNumber: held.serialNumber,
      orphans: [],
    });
    expect(ctx.store.serialAt(user.secretName, PENDING)).toBe(fresh);
    expect(rowOf(await rotate(ctx), 'app1')).toMatchObject({
      action: 'resumed',
      serialNumber: fresh,
    });
  });
});
