import { describe, expect, it } from 'vitest';
import { RotatorError } from '../../../functions/domain/errors.js';
import { DAY_MS } from '../../../functions/domain/renewal.js';
import { versionIdFor } from '../../../functions/domain/stored-value.js';
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
const world = () => {
  const ctx = newWorld();
  return { ctx, user: userOf(ctx, P1, 'app1') };
};
const serials = (ctx: FakeContext) => ctx.atlas.created.map((c) => c.serialNumber);
/** Certificates Atlas minted for app1 `daysAgo` whose keys no secret holds. */
const orphansOf = async (ctx: FakeContext, count: number, daysAgo: number) => {
  const now = ctx.clock.now().getTime();
  const dates = {
    notBefore: new Date(now - daysAgo * DAY_MS),
    notAfter: new Date(now + 80 * DAY_MS),
  };
  const made = [];
  for (let i = 0; i < count; i++) made.push((await ctx.atlas.seed(P1, 'app1', dates)).serialNumber);
  return made;
};

describe('engine: a create whose outcome is unknown', () => {
  it('counts what it minted as an orphan and tries once more', async () => {
    const { ctx, user } = world();
    await holding(ctx, app1, datesFor(ctx.clock, 10));
    ctx.atlas.nextCreate({ kind: 'unknown', minted: true });
    const row = rowOf(await rotate(ctx), 'app1');
    const [lost, kept] = serials(ctx);
    expect(ctx.atlas.calls.count('createCertificate')).toBe(2);
    expect(row).toMatchObject({ action: 'rotated', serialNumber: kept, orphans: [lost] });
    expect(ctx.store.serialAt(user.secretName)).toBe(kept);
    expect(Object.keys(ctx.store.labels(user.secretName))).not.toContain(versionIdFor(lost ?? ''));
    const warned = ctx.log.entries.find(
      (e) => e.message === 'create outcome unknown; listed again',
    );
    expect(warned?.attributes).toMatchObject({ attempt: 1, newOrphans: [lost] });
  });

  it('retries without an orphan when nothing was minted', async () => {
    const { ctx } = world();
    ctx.atlas.nextCreate({ kind: 'unknown', minted: false });
    const row = rowOf(await rotate(ctx), 'app1');
    expect(ctx.atlas.calls.count('createCertificate')).toBe(2);
    expect(row).toMatchObject({ action: 'rotated', serialNumber: serials(ctx)[0], orphans: [] });
  });

  it('fails CREATE_OUTCOME_UNKNOWN after two, reporting both orphans', async () => {
    const { ctx, user } = world();
    ctx.atlas.nextCreate({ kind: 'unknown', minted: true }, { kind: 'unknown', minted: true });
    const report = await rotate(ctx);
    expect(ctx.atlas.calls.count('createCertificate')).toBe(2);
    expect(rowOf(report, 'app1')).toMatchObject({
      action: 'failed',
      errorCode: 'CREATE_OUTCOME_UNKNOWN',
      orphans: serials(ctx),
    });
    expect(report.summary.orphans).toBe(2);
    // The new secret stays empty: the next run mints into it.
    expect(ctx.store.labels(user.secretName)).toEqual({});
  });
});

describe('engine: the orphan limit', () => {
  it('refuses to mint at the limit (ORPHAN_LIMIT), reporting the orphans', async () => {
    const { ctx } = world();
    await holding(ctx, app1, datesFor(ctx.clock, 10));
    const orphans = await orphansOf(ctx, 2, 2);
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({ action: 'failed', errorCode: 'ORPHAN_LIMIT', orphans });
    expect(row.reason).toBe(
      'refusing to mint: 2 certificate(s) minted in the last 7 days were lost (orphans)',
    );
    expect(ctx.atlas.calls.count('createCertificate')).toBe(0);
  });

  it('does not count orphans older than the window against the limit', async () => {
    const { ctx } = world();
    await holding(ctx, app1, datesFor(ctx.clock, 10));
    const orphans = await orphansOf(ctx, 2, 8);
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({ action: 'rotated', orphans });
  });

  it('mints once past the limit for a certificate about to expire (the critical floor)', async () => {
    const { ctx } = world();
    await holding(ctx, app1, datesFor(ctx.clock, 3));
    const orphans = await orphansOf(ctx, 2, 1);
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({ action: 'rotated', serialNumber: serials(ctx)[0], orphans });
    expect(ctx.log.messages('warn')).toContain(
      'minting past the orphan limit: the certificate is about to expire',
    );
  });

  it('does not retry past the limit after an unknown outcome, even when critical', async () => {
    const { ctx } = world();
    await holding(ctx, app1, datesFor(ctx.clock, 3));
    const orphans = await orphansOf(ctx, 2, 1);
    ctx.atlas.nextCreate({ kind: 'unknown', minted: true });
    const row = rowOf(await rotate(ctx), 'app1');
    expect(ctx.atlas.calls.count('createCertificate')).toBe(1);
    expect(row).toMatchObject({ action: 'failed', errorCode: 'ORPHAN_LIMIT' });
    expect(row.orphans).toEqual([...orphans, ...serials(ctx)]);
    expect(row.reason).toContain('refusing to mint: 3 certificate(s)');
  });
});

describe('engine: after a mint', () => {
  it('reports the key as lost when the certificate cannot be stored', async () => {
    const { ctx, user } = world();
    const held = await holding(ctx, app1, datesFor(ctx.clock, 10));
    ctx.store.calls.fail('put', storeError('KMS_ACCESS_DENIED'));
    const row = rowOf(await rotate(ctx), 'app1');
    const [lost] = serials(ctx);
    expect(row).toMatchObject({
      action: 'failed',
      errorCode: 'KMS_ACCESS_DENIED',
      serialNumber: held.serialNumber,
      orphans: [lost],
    });
    expect(ctx.store.serialAt(user.secretName)).toBe(held.serialNumber);
    const logged = ctx.log.entries.find((e) => e.message.includes('its key is lost'));
    expect(logged).toMatchObject({ level: 'error', attributes: { serialNumber: lost } });
  });

  it('rejects a body that is no certificate bundle, reporting what Atlas minted', async () => {
    const { ctx, user } = world();
    ctx.atlas.nextCreate({ kind: 'garbage' });
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({
      action: 'failed',
      errorCode: 'CERTIFICATE_REJECTED',
      orphans: serials(ctx),
    });
    expect(serials(ctx)).toHaveLength(1);
    expect(row.reason).toMatch(/^Certificate rejected: /);
    expect(ctx.store.calls.count('put')).toBe(0);
    expect(ctx.store.labels(user.secretName)).toEqual({});
  });

  it('fails with Atlas refusal codes as they are, retrying nothing', async () => {
    const { ctx } = world();
    await holding(ctx, app1, datesFor(ctx.clock, 10));
    const capped = new RotatorError('Atlas refused: the certificate cap is reached', {
      code: 'ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED',
      remedy: 'wait for certificates to expire',
    });
    ctx.atlas.calls.fail('createCertificate', capped);
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({
      action: 'failed',
      errorCode: 'ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED',
      reason: capped.message,
      orphans: [],
    });
    expect(ctx.atlas.calls.count('createCertificate')).toBe(1);
  });

  it('turns an unexpected error into INTERNAL_ERROR for that user only', async () => {
    const ctx = newWorld({ config: { projects: [{ projectId: P1, users: ['app1', 'app2'] }] } });
    ctx.atlas.calls.fail('listCertificates', new TypeError('boom'), {
      when: (_p, u) => u === 'app1',
    });
    const report = await rotate(ctx);
    expect(rowOf(report, 'app1')).toMatchObject({
      action: 'failed',
      errorCode: 'INTERNAL_ERROR',
      reason: 'unexpected error: TypeError: boom',
    });
    expect(rowOf(report, 'app2').action).toBe('rotated');
    expect(report.error).toBeUndefined();
  });
});
