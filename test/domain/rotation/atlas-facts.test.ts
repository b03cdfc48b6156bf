import { describe, expect, it } from 'vitest';
import type { RawConfig } from '../../../functions/domain/config/schema.js';
import { RotatorError } from '../../../functions/domain/errors.js';
import { P1, P2 } from '../../support/fakes/fixtures.js';
import { datesFor } from '../../support/fakes/pki.js';
import {
  type FakeContext,
  fakeWorlds,
  holding,
  rotate,
  rowOf,
  userOf,
} from '../../support/world.js';

const newWorld = fakeWorlds();

/** P1: a MANAGED, a NONE and a CUSTOMER user; P2: one MANAGED user, under a customer CA. */
const mixed: RawConfig = {
  projects: [
    { projectId: P1, users: ['managed', 'scram', 'customer'] },
    { projectId: P2, users: ['etl'] },
  ],
};
const mixedWorld = (config: RawConfig = mixed): FakeContext => {
  const ctx = newWorld({ config });
  ctx.atlas
    .addUser(P1, 'managed')
    .addUser(P1, 'scram', 'NONE')
    .addUser(P1, 'customer', 'CUSTOMER')
    .addUser(P2, 'etl')
    .setCustomerCa(P2);
  return ctx;
};
const creates = (ctx: FakeContext) => ctx.atlas.calls.count('createCertificate');
const reads = (ctx: FakeContext) => ({
  users: ctx.atlas.calls.count('listDatabaseUsers'),
  customerCa: ctx.atlas.calls.count('customerCaConfigured'),
});

describe('engine: a dry run predicts what Atlas will refuse', () => {
  it('fails the users Atlas would refuse, with its codes, creating nothing', async () => {
    const ctx = mixedWorld();
    const report = await rotate(ctx, { dryRun: true });
    expect(report.users.map((u) => [u.username, u.action, u.errorCode])).toEqual([
      ['managed', 'planned', undefined],
      ['scram', 'failed', 'USER_NOT_MANAGED_X509'],
      ['customer', 'failed', 'USER_NOT_MANAGED_X509'],
      ['etl', 'failed', 'CANNOT_GENERATE_CERT_IF_ADVANCED_X509'],
    ]);
    expect(rowOf(report, 'scram').reason).toBe(
      'would fail: USER_NOT_MANAGED_X509: Atlas refuses managed certificates for scram: its x509Type is NONE on $external, not MANAGED on $external',
    );
    expect(rowOf(report, 'etl', P2).reason).toMatch(
      /^would fail: CANNOT_GENERATE_CERT_IF_ADVANCED_X509: .* customer CA/,
    );
    expect(rowOf(report, 'etl', P2).remedy).toMatch(/disable-customer-x509/);
    expect(rowOf(report, 'managed').reason).toBe('would mint: no certificate stored yet');
    expect(creates(ctx)).toBe(0);
    expect(ctx.store.calls.count('create')).toBe(0);
    // One list and one setting per project, shared by its users; P1's refused users need none.
    expect(reads(ctx)).toEqual({ users: 2, customerCa: 2 });
  });

  it('says, for a user that is not due, what its renewal would meet', async () => {
    const ctx = newWorld({ config: { projects: [{ projectId: P2, users: ['etl'] }] } });
    ctx.atlas.addUser(P2, 'etl').setCustomerCa(P2);
    await holding(ctx, { projectId: P2, username: 'etl' }, datesFor(ctx.clock, 70));
    const dry = rowOf(await rotate(ctx, { dryRun: true }), 'etl', P2);
    expect(dry.action).toBe('skipped');
    expect(dry.reason).toMatch(
      /^not due: .*; its renewal would fail: CANNOT_GENERATE_CERT_IF_ADVANCED_X509: /,
    );
    // A real run does not read for a user that is not due.
    const before = reads(ctx);
    const real = rowOf(await rotate(ctx), 'etl', P2);
    expect(real.action).toBe('skipped');
    expect(real.reason).not.toMatch(/would fail/);
    expect(reads(ctx)).toEqual(before);
  });
});

describe('engine: a real run checks before it creates anything', () => {
  it('fails the refused users without a secret or a create, and rotates the rest', async () => {
    const ctx = mixedWorld();
    const report = await rotate(ctx);
    expect(report.users.map((u) => [u.username, u.action, u.errorCode])).toEqual([
      ['managed', 'rotated', undefined],
      ['scram', 'failed', 'USER_NOT_MANAGED_X509'],
      ['customer', 'failed', 'USER_NOT_MANAGED_X509'],
      ['etl', 'failed', 'CANNOT_GENERATE_CERT_IF_ADVANCED_X509'],
    ]);
    expect(rowOf(report, 'scram')).toMatchObject({
      reason: expect.stringMatching(/^not minting: Atlas refuses managed certificates for scram/),
      remedy: expect.stringMatching(/x509Type MANAGED/),
      secretArn: undefined,
    });
    expect(ctx.atlas.calls.count('createCertificate', (_p, u) => u !== 'managed')).toBe(0);
    expect([...ctx.store.secrets.keys()]).toEqual([userOf(ctx, P1, 'managed').secretName]);
    expect(reads(ctx)).toEqual({ users: 2, customerCa: 2 });
  });

  it('fails a due user holding a certificate once a customer CA appears, keeping it', async () => {
    const ctx = newWorld({ config: { projects: [{ projectId: P1, users: ['app1'] }] } });
    ctx.atlas.addUser(P1, 'app1').setCustomerCa(P1);
    const held = await holding(ctx, { projectId: P1, username: 'app1' }, datesFor(ctx.clock, 10));
    expect(rowOf(await rotate(ctx), 'app1')).toMatchObject({
      action: 'failed',
      errorCode: 'CANNOT_GENERATE_CERT_IF_ADVANCED_X509',
      serialNumber: held.serialNumber,
    });
    expect(creates(ctx)).toBe(0);
  });

  it('reads nothing more on a day nobody is due', async () => {
    const ctx = mixedWorld({ projects: [{ projectId: P1, users: ['managed'] }] });
    await holding(ctx, { projectId: P1, username: 'managed' }, datesFor(ctx.clock, 70));
    expect(rowOf(await rotate(ctx), 'managed').action).toBe('skipped');
    expect(reads(ctx)).toEqual({ users: 0, customerCa: 0 });
    expect(ctx.atlas.calls.log.map((c) => c.method)).toEqual(['listCertificates']);
  });

  it("reuses discovery's user list", async () => {
    const ctx = newWorld({ config: { projects: [{ projectId: P1, discover: true }] } });
    ctx.atlas.addUser(P1, 'a').addUser(P1, 'b');
    const report = await rotate(ctx);
    expect(report.summary).toMatchObject({ rotated: 2 });
    expect(reads(ctx)).toEqual({ users: 1, customerCa: 1 });
  });

  it('carries on as before when a fact cannot be read (user-scoped failure)', async () => {
    const ctx = newWorld();
    ctx.atlas.calls.fail(
      'listDatabaseUsers',
      new RotatorError('Atlas unavailable', { code: 'ATLAS_UNAVAILABLE', remedy: 'later' }),
    );
    expect(rowOf(await rotate(ctx), 'app1').action).toBe('rotated');
    expect(ctx.log.messages('warn')).toContain(
      "cannot read the project's database users; creating as before, Atlas's answer decides",
    );
  });

  it('stops the project when reading a fact hits a project-scoped failure', async () => {
    const ctx = newWorld();
    ctx.atlas.calls.fail(
      'customerCaConfigured',
      new RotatorError('not in group', { code: 'NOT_IN_GROUP', remedy: 'x', scope: 'project' }),
    );
    expect(rowOf(await rotate(ctx), 'app1')).toMatchObject({
      action: 'failed',
      errorCode: 'NOT_IN_GROUP',
    });
    expect(creates(ctx)).toBe(0);
    expect(ctx.store.calls.count('create')).toBe(0);
  });
});

describe('engine: a first mint Atlas refuses anyway leaves no secret', () => {
  const unreadableCa = () => {
    const ctx = newWorld();
    ctx.atlas.addUser(P1, 'app1').setCustomerCa(P1, { readable: false });
    return ctx;
  };

  it('removes the empty secret this run created', async () => {
    const ctx = unreadableCa();
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({
      action: 'failed',
      errorCode: 'CANNOT_GENERATE_CERT_IF_ADVANCED_X509',
      secretArn: undefined,
    });
    expect(creates(ctx)).toBe(1);
    expect(ctx.store.calls.count('create')).toBe(1);
    expect(ctx.store.calls.count('removeEmpty')).toBe(1);
    expect(ctx.store.secrets.size).toBe(0);
    expect(ctx.log.messages('debug')).toContain(
      'customer X.509 setting unknown; creating as before',
    );
    expect(ctx.log.messages('info')).toContain('removed the empty secret this run created');
  });

  it('keeps a secret that existed before the run', async () => {
    const ctx = unreadableCa();
    const name = userOf(ctx, P1, 'app1').secretName;
    ctx.store.seedEmpty(name);
    expect(rowOf(await rotate(ctx), 'app1').action).toBe('failed');
    expect(ctx.store.calls.count('removeEmpty')).toBe(0);
    expect(ctx.store.secrets.has(name)).toBe(true);
  });

  it('keeps the secret when an earlier create of the run may have minted', async () => {
    const ctx = newWorld();
    ctx.atlas.addUser(P1, 'app1');
    ctx.atlas.nextCreate({ kind: 'unknown', minted: true });
    ctx.atlas.calls.on(
      'createCertificate',
      () => {
        throw new RotatorError('refused', {
          code: 'ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED',
          remedy: 'x',
        });
      },
      { when: () => ctx.atlas.created.length === 1 },
    );
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({
      action: 'failed',
      errorCode: 'ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED',
    });
    expect(row.orphans).toHaveLength(1);
    expect(ctx.store.calls.count('removeEmpty')).toBe(0);
    expect(ctx.store.secrets.size).toBe(1);
  });

  it('keeps the refusal as the row when the removal fails', async () => {
    const ctx = unreadableCa();
    ctx.store.calls.fail('removeEmpty', new Error('throttled'));
    expect(rowOf(await rotate(ctx), 'app1').errorCode).toBe(
      'CANNOT_GENERATE_CERT_IF_ADVANCED_X509',
    );
    expect(ctx.log.messages('warn')).toContain(
      'could not remove the empty secret this run created',
    );
  });
});
