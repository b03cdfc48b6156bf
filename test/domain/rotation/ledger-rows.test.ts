import { describe, expect, it } from 'vitest';
import { RotatorError } from '../../../functions/domain/errors.js';
import { knownBefore } from '../../../functions/domain/rotation/ledger.js';
import type { Outcome } from '../../../functions/domain/rotation/outcomes.js';
import { APP1, P1 } from '../../support/fakes/fixtures.js';
import { datesFor } from '../../support/fakes/pki.js';
import { storeError } from '../../support/fakes/secret-store.js';
import { fakeWorlds, holding, rotate, rowOf, userOf } from '../../support/world.js';

/**
 * What rows tell signals: the expiry a deferred or failed row already knows (or that there is
 * no certificate), and which orphans no earlier run reported (the orphans tag).
 */

const world = fakeWorlds();
const paused = () => true;
const notFound = () =>
  new RotatorError('Atlas: no such user', { code: 'USERNAME_NOT_FOUND', remedy: 'check it' });

describe('rows: the expiry a deferred or failed user already has', () => {
  it('a deferred user carries its tagged expiry', async () => {
    const ctx = world({ paused });
    const held = await holding(ctx, APP1, datesFor(ctx.clock, 20));
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({ action: 'deferred', notAfter: held.notAfter.toISOString() });
    expect(row.certificate).toBeUndefined();
  });

  it('a deferred user without a secret, or with an empty one, is known to hold none', async () => {
    const ctx = world({
      paused,
      config: { projects: [{ projectId: P1, users: ['app1', 'app2'] }] },
    });
    ctx.store.seedEmpty(userOf(ctx, P1, 'app2').secretName);
    const report = await rotate(ctx);
    for (const name of ['app1', 'app2']) {
      expect(rowOf(report, name)).toMatchObject({
        action: 'deferred',
        notAfter: undefined,
        certificate: 'none',
      });
    }
  });

  it('a secret without the expiry tag leaves the expiry unknown, not none', async () => {
    const ctx = world({ paused });
    await holding(ctx, APP1, datesFor(ctx.clock, 20));
    ctx.store.secrets.get(userOf(ctx, P1, 'app1').secretName)?.tags.clear();
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({ action: 'deferred', notAfter: undefined });
    expect(row.certificate).toBeUndefined();
  });

  it('without the index nothing is known before reading: unknown, not none', async () => {
    const ctx = world({ paused });
    ctx.store.calls.fail('index', storeError('SECRET_ACCESS_DENIED', 'ListSecrets'));
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({ action: 'deferred', notAfter: undefined });
    expect(row.certificate).toBeUndefined();
  });

  it('a user failing before its certificate is read carries the tagged expiry', async () => {
    const ctx = world();
    const held = await holding(ctx, APP1, datesFor(ctx.clock, 40));
    ctx.atlas.calls.fail('listCertificates', notFound());
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({
      action: 'failed',
      errorCode: 'USERNAME_NOT_FOUND',
      serialNumber: undefined,
      notAfter: held.notAfter.toISOString(),
    });
  });

  it('without the index, a user read to have no secret and then failing holds none', async () => {
    const ctx = world();
    ctx.store.calls.fail('index', storeError('SECRET_ACCESS_DENIED', 'ListSecrets'));
    ctx.store.calls.fail('create', storeError('SECRET_ACCESS_DENIED', 'CreateSecret'));
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({ action: 'failed', certificate: 'none' });
  });

  it('leaves rows that are neither deferred nor failed alone', () => {
    const none = null;
    const skipped: Outcome = {
      secretArn: undefined,
      action: 'skipped',
      reason: 'disabled',
      serialNumber: undefined,
      notAfter: undefined,
      orphans: [],
    };
    expect(knownBefore(skipped, none)).toEqual({});
    expect(knownBefore({ ...skipped, action: 'failed' }, none)).toEqual({ certificate: 'none' });
    expect(knownBefore({ ...skipped, action: 'failed' }, undefined)).toEqual({});
  });
});
