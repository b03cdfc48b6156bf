import { describe, expect, it } from 'vitest';
import type { RawConfig } from '../../../functions/domain/config/schema.js';
import { DAY_MS } from '../../../functions/domain/renewal.js';
import type {
  LoginCheckPort,
  LoginCheckRequest,
  LoginCheckResult,
} from '../../../functions/domain/rotation/ports.js';
import { CURRENT, PENDING } from '../../../functions/domain/stored-value.js';
import { VERIFY_TIMEOUT_MS } from '../../../functions/domain/timing.js';
import { APP1, P1, P2 } from '../../support/fakes/fixtures.js';
import { datesFor } from '../../support/fakes/pki.js';
import {
  type FakeContext,
  fakeWorlds,
  holding,
  rotate,
  rowOf,
  userOf,
} from '../../support/world.js';

/** A login check that answers from a script, and remembers what it was asked. */
class FakeLoginCheck implements LoginCheckPort {
  readonly requests: LoginCheckRequest[] = [];
  constructor(private answer: (r: LoginCheckRequest) => LoginCheckResult | Promise<never>) {}

  answers(next: (r: LoginCheckRequest) => LoginCheckResult | Promise<never>): void {
    this.answer = next;
  }

  async check(request: LoginCheckRequest): Promise<LoginCheckResult> {
    this.requests.push(request);
    return this.answer(request);
  }
}

const URI = 'mongodb+srv://cluster0.example.mongodb.net/';
const REFUSED =
  'MongoServerError 11 UserNotFound: Could not find user "CN=app1" for db "$external"';
const passes = (): LoginCheckResult => ({ ok: true });
const refuses = (): LoginCheckResult => ({ ok: false, reason: REFUSED });

const withVerify = (): RawConfig => ({
  projects: [{ projectId: P1, users: ['app1'], verify: { uri: URI } }],
});

const world = fakeWorlds();
const checked = (
  answer: (r: LoginCheckRequest) => LoginCheckResult | Promise<never>,
  options: Parameters<typeof world>[0] = {},
): { ctx: FakeContext; check: FakeLoginCheck } => {
  const ctx = world({ config: withVerify(), ...options });
  const check = new FakeLoginCheck(answer);
  ctx.loginCheck = check;
  return { ctx, check };
};
const secretOf = (ctx: FakeContext) => userOf(ctx, P1, 'app1').secretName;

describe('engine: the login check before a certificate becomes current (verify.uri)', () => {
  it('promotes a new certificate that logs in, after checking it with its own key', async () => {
    const { ctx, check } = checked(passes);
    const held = await holding(ctx, APP1, datesFor(ctx.clock, 20));
    const row = rowOf(await rotate(ctx), 'app1');
    const minted = ctx.atlas.created[0];
    expect(row).toMatchObject({
      action: 'rotated',
      serialNumber: minted?.serialNumber,
      verify: { outcome: 'passed' },
    });
    expect(ctx.store.serialAt(secretOf(ctx))).toBe(minted?.serialNumber);
    expect(ctx.store.serialAt(secretOf(ctx), 'AWSPREVIOUS')).toBe(held.serialNumber);
    expect(check.requests).toEqual([
      {
        uri: URI,
        certificate: minted?.minted.certificate,
        privateKey: minted?.minted.privateKey,
        timeoutMs: VERIFY_TIMEOUT_MS,
      },
    ]);
  });

  it('keeps a refused certificate pending and fails the user with VERIFY_FAILED', async () => {
    const { ctx } = checked(refuses);
    const held = await holding(ctx, APP1, datesFor(ctx.clock, 20));
    const row = rowOf(await rotate(ctx), 'app1');
    const minted = ctx.atlas.created[0]?.serialNumber;
    expect(row).toMatchObject({
      action: 'failed',
      errorCode: 'VERIFY_FAILED',
      reason: `certificate ${minted} stored as AWSPENDING, not made current: its login check failed: ${REFUSED}`,
      remedy: expect.stringContaining('The next run checks it again without minting'),
      serialNumber: held.serialNumber,
      notAfter: held.notAfter.toISOString(),
      verify: { outcome: 'failed', error: REFUSED },
    });
    expect(ctx.store.serialAt(secretOf(ctx))).toBe(held.serialNumber);
    expect(ctx.store.serialAt(secretOf(ctx), PENDING)).toBe(minted);
    expect(ctx.store.calls.count('promote')).toBe(0);
  });

  it('checks the pending certificate again on the next run, minting nothing', async () => {
    const { ctx, check } = checked(refuses);
    await holding(ctx, APP1, datesFor(ctx.clock, 20));
    await rotate(ctx);
    const pending = ctx.atlas.created[0]?.serialNumber;

    ctx.clock.advance(DAY_MS);
    const again = rowOf(await rotate(ctx), 'app1');
    expect(again).toMatchObject({ action: 'failed', errorCode: 'VERIFY_FAILED' });

    check.answers(passes);
    ctx.clock.advance(DAY_MS);
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({
      action: 'resumed',
      serialNumber: pending,
      verify: { outcome: 'passed' },
    });
    expect(ctx.store.serialAt(secretOf(ctx))).toBe(pending);
    expect(ctx.atlas.created).toHaveLength(1);
    expect(check.requests).toHaveLength(3);
    expect(new Set(check.requests.map((r) => r.certificate)).size).toBe(1);
  });

  it('promotes anyway once a persistent failure meets a current certificate within criticalDays', async () => {
    const { ctx } = checked(refuses);
    const held = await holding(ctx, APP1, datesFor(ctx.clock, 20));
    expect(rowOf(await rotate(ctx), 'app1').errorCode).toBe('VERIFY_FAILED');
    const pending = ctx.atlas.created[0]?.serialNumber;

    // 6.5 days left: inside the default criticalDays (7). The check still fails.
    ctx.clock.advance(13.5 * DAY_MS);
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({
      action: 'resumed',
      serialNumber: pending,
      reason: `finished the interrupted rotation: certificate ${pending} is now current; made current although its login check failed (the certificate it replaces expires in 6.5 days, within criticalDays 7): ${REFUSED}`,
      verify: { outcome: 'bypassed', error: REFUSED },
    });
    expect(row.errorCode).toBeUndefined();
    expect(ctx.store.serialAt(secretOf(ctx))).toBe(pending);
    expect(ctx.store.serialAt(secretOf(ctx), 'AWSPREVIOUS')).toBe(held.serialNumber);
    expect(ctx.atlas.created).toHaveLength(1);
    expect(ctx.log.messages('warn')).toContain(
      'making a certificate current although its login check failed',
    );
  });

  it('promotes at once a refused certificate whose predecessor is already critical', async () => {
    const { ctx } = checked(refuses);
    await holding(ctx, APP1, datesFor(ctx.clock, 3));
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({
      action: 'rotated',
      serialNumber: ctx.atlas.created[0]?.serialNumber,
      verify: { outcome: 'bypassed', error: REFUSED },
    });
    expect(row.reason).toMatch(/; made current although its login check failed \(the certificate/);
  });

  it('reports the check of a first certificate, current the moment it is stored', async () => {
    const { ctx, check } = checked(refuses);
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({
      action: 'rotated',
      reason: `stored the first certificate (no certificate stored yet); made current although its login check failed (the secret held no certificate, within criticalDays 7): ${REFUSED}`,
      verify: { outcome: 'bypassed', error: REFUSED },
    });
    expect(ctx.store.serialAt(secretOf(ctx))).toBe(ctx.atlas.created[0]?.serialNumber);
    expect(check.requests).toHaveLength(1);

    const other = checked(passes);
    expect(rowOf(await rotate(other.ctx), 'app1').verify).toEqual({ outcome: 'passed' });
  });

  it('never checks in a project without verify.uri, nor in a dry run', async () => {
    const ctx = world({
      config: { projects: [...withVerify().projects, { projectId: P2, users: ['app2'] }] },
    });
    const check = new FakeLoginCheck(refuses);
    ctx.loginCheck = check;
    await holding(ctx, { projectId: P2, username: 'app2' }, datesFor(ctx.clock, 20));
    await holding(ctx, APP1, datesFor(ctx.clock, 20));
    const planned = await rotate(ctx, { dryRun: true });
    expect(planned.users.map((u) => u.action)).toEqual(['planned', 'planned']);
    expect(check.requests).toHaveLength(0);

    const report = await rotate(ctx);
    const row = rowOf(report, 'app2', P2);
    expect(row.action).toBe('rotated');
    expect(row.verify).toBeUndefined();
    expect(check.requests).toHaveLength(1);
    expect(rowOf(report, 'app1').errorCode).toBe('VERIFY_FAILED');
  });

  it('holds the certificate back when the check throws or is not wired', async () => {
    const thrown = checked(() => Promise.reject(new TypeError('boom')));
    await holding(thrown.ctx, APP1, datesFor(thrown.ctx.clock, 20));
    expect(rowOf(await rotate(thrown.ctx), 'app1')).toMatchObject({
      errorCode: 'VERIFY_FAILED',
      verify: { outcome: 'failed', error: 'TypeError: the login check itself failed' },
    });
    expect(thrown.ctx.store.versionAt(secretOf(thrown.ctx), PENDING)).toBeDefined();

    const unwired = world({ config: withVerify() });
    await holding(unwired, APP1, datesFor(unwired.clock, 20));
    expect(rowOf(await rotate(unwired), 'app1').verify).toEqual({
      outcome: 'failed',
      error: 'no login check is wired into this run',
    });
  });

  it('gives the check only what the deadline leaves, and defers it when that is too little', async () => {
    const tuning = { minTimeForMintMs: 1_000 };
    const ample = checked(passes, {
      config: withVerify(),
      tuning,
      deadline: () => ample.ctx.clock.now().getTime() + 8_000,
    });
    await holding(ample.ctx, APP1, datesFor(ample.ctx.clock, 20));
    await rotate(ample.ctx);
    // 8 s left: the check gets 5 s, the promotion keeps 3 s.
    expect(ample.check.requests[0]?.timeoutMs).toBe(5_000);

    const start = Date.parse('2026-09-01T00:00:00.000Z');
    const short = checked(passes, { config: withVerify(), tuning, deadline: () => start + 4_000 });
    await holding(short.ctx, APP1, datesFor(short.ctx.clock, 20));
    const row = rowOf(await rotate(short.ctx), 'app1');
    const minted = short.ctx.atlas.created[0]?.serialNumber;
    expect(row).toMatchObject({
      action: 'deferred',
      reason: `certificate ${minted} stored as AWSPENDING; no time left in this run for its login check: the next run checks it and makes it current`,
    });
    expect(short.check.requests).toHaveLength(0);
    expect(short.ctx.store.serialAt(secretOf(short.ctx), PENDING)).toBe(minted);
    expect(short.ctx.store.serialAt(secretOf(short.ctx), CURRENT)).not.toBe(minted);
  });
});
