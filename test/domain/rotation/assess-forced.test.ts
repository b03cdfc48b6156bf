import { describe, expect, it } from 'vitest';
import { requestIdentity } from '../../../functions/domain/rotation/request.js';
import { requestToken, servedTagValue } from '../../../functions/domain/rotation/served.js';
import { parseServedTag } from '../../../functions/domain/stored-value.js';
import { APP1 } from '../../support/fakes/fixtures.js';
import { datesFor } from '../../support/fakes/pki.js';
import { fakeWorlds, holding, rotate, rowOf, userOf } from '../../support/world.js';

/**
 * A forced request is served once, by its identity (#24.3, #25.10): the requestId, or a hash of
 * the payload with its requestedAt. No time window: a new request always mints (within the cap).
 */

const app1 = APP1;
const world = fakeWorlds();

/** The schedule rotates app1 (5 days left): its certificate is stored at the clock's now. */
const scheduledRotation = async (ctx: ReturnType<typeof world>) => {
  await holding(ctx, app1, datesFor(ctx.clock, 5));
  const row = rowOf(await rotate(ctx, {}), 'app1');
  expect(row.action).toBe('rotated');
  return row;
};

describe('engine: a forced request is served once, by identity', () => {
  it('an operator forcing a rotation one second after the schedule rotated the user gets a new certificate', async () => {
    const ctx = world();
    const scheduled = await scheduledRotation(ctx);
    ctx.clock.advance(1_000);
    // The key leaked: the operator forces, as the CLI and the docs' payload do.
    const byTime = rowOf(
      await rotate(ctx, { force: true, only: [app1], requestedAt: ctx.clock.now() }),
      'app1',
    );
    expect(byTime.action).toBe('rotated');
    expect(byTime.serialNumber).not.toBe(scheduled.serialNumber);
    ctx.clock.advance(1_000);
    const byId = rowOf(
      await rotate(ctx, { force: true, only: [app1], requestId: 'cli-second' }),
      'app1',
    );
    expect(byId.action).toBe('rotated');
    expect(byId.serialNumber).not.toBe(byTime.serialNumber);
    expect(ctx.atlas.calls.count('createCertificate')).toBe(3);
  });

  it('a retried invoke of the same requestId mints nothing more, and says which version served it', async () => {
    const ctx = world();
    await holding(ctx, app1, datesFor(ctx.clock, 60));
    const request = { force: true, only: [app1], requestId: 'ticket-4711' };
    const first = await rotate(ctx, request);
    expect(first.requestId).toBe('ticket-4711');
    expect(rowOf(first, 'app1').action).toBe('rotated');

    ctx.clock.advance(60_000); // the AWS CLI's read timeout, then its retry
    const retry = rowOf(await rotate(ctx, request), 'app1');
    expect(retry).toMatchObject({
      action: 'skipped',
      serialNumber: rowOf(first, 'app1').serialNumber,
    });
    expect(retry.reason).toMatch(
      /^forced request already served: request ticket-4711 stored version [0-9a-f]{8}…; /,
    );
    // Days later, still the same request.
    ctx.clock.advance(3 * 86_400_000);
    expect(rowOf(await rotate(ctx, request), 'app1').action).toBe('skipped');
    expect(ctx.atlas.calls.count('createCertificate')).toBe(1);
  });

  it('a retry of the same requestedAt-only payload mints nothing more; another requestedAt does', async () => {
    const ctx = world();
    await holding(ctx, app1, datesFor(ctx.clock, 60));
    const request = { force: true, only: [app1], requestedAt: ctx.clock.now() };
    const first = await rotate(ctx, request);
    expect(first.requestId).toBe(requestIdentity({ dryRun: false, ...request }));
    expect(first.requestId).toMatch(/^at-[0-9a-f]{32}$/);
    ctx.clock.advance(60_000);
    expect(rowOf(await rotate(ctx, request), 'app1').action).toBe('skipped');
    expect(ctx.atlas.calls.count('createCertificate')).toBe(1);
    // Another request (a second later) is another intent.
    const next = { ...request, requestedAt: new Date(request.requestedAt.getTime() + 1_000) };
    expect(rowOf(await rotate(ctx, next), 'app1').action).toBe('rotated');
    expect(ctx.atlas.calls.count('createCertificate')).toBe(2);
  });

  it('a dry run of a new forced request plans the mint, right after a rotation', async () => {
    const ctx = world();
    await scheduledRotation(ctx);
    ctx.clock.advance(1_000);
    const plan = rowOf(
      await rotate(ctx, {
        dryRun: true,
        force: true,
        only: [app1],
        requestedAt: ctx.clock.now(),
      }),
      'app1',
    );
    expect(plan).toMatchObject({ action: 'planned' });
    expect(plan.reason).toMatch(/^would mint: forced/);
    // A dry run records nothing: the same request then mints.
    expect(ctx.store.requestsTag(userOf(ctx, app1.projectId, app1.username).secretName)).toBe(
      undefined,
    );
  });

  it('without an identity each forced request is new: it mints, and the report says a retry would too', async () => {
    const ctx = world();
    await holding(ctx, app1, datesFor(ctx.clock, 60));
    const first = await rotate(ctx, { force: true, only: [app1] });
    expect(first.requestId).toBeUndefined();
    expect(first.requestNote).toMatch(/no requestId .*a retried invoke of it mints again/);
    await rotate(ctx, { force: true, only: [app1] });
    expect(ctx.atlas.calls.count('createCertificate')).toBe(2);
    // A scheduled run carries no note.
    expect((await rotate(ctx, {})).requestNote).toBeUndefined();
  });

  it('new requests mint only within the mint cap', async () => {
    const ctx = world();
    await holding(ctx, app1, datesFor(ctx.clock, 60));
    const cap = ctx.config.rotation.maxMintsPerWindow;
    const rows = [];
    for (let i = 0; i <= cap; i++) {
      ctx.clock.advance(1_000);
      rows.push(
        rowOf(await rotate(ctx, { force: true, only: [app1], requestId: `r-${i}` }), 'app1'),
      );
    }
    expect(rows.at(-1)).toMatchObject({ action: 'failed', errorCode: 'MINT_CAP' });
    expect(rows.slice(0, -1).every((r) => r.action === 'rotated')).toBe(true);
  });
});

describe('the requests tag', () => {
  it('keeps the newest records first, as many as a tag value holds', () => {
    let value = '';
    for (let i = 0; i < 20; i++) {
      value = servedTagValue(parseServedTag(value), `req-${i}`, `0b8f8d6e-4f53-4c1e-9f0e-${i}`);
    }
    expect(value.length).toBeLessThanOrEqual(256);
    const records = parseServedTag(value);
    expect(records.length).toBeGreaterThanOrEqual(9);
    expect(records[0]).toEqual({ request: requestToken('req-19'), version: '0b8f8d6e' });
    expect(parseServedTag('junk 0123456789abcdef:0b8f8d6e x:y')).toEqual([
      { request: '0123456789abcdef', version: '0b8f8d6e' },
    ]);
  });

  it('gives a requestedAt payload one identity, whatever else the payload says', () => {
    const at = new Date('2026-12-01T10:00:00Z');
    const a = requestIdentity({ dryRun: false, force: true, only: [app1], requestedAt: at });
    expect(requestIdentity({ dryRun: true, force: true, only: [app1], requestedAt: at })).toBe(a);
    expect(requestIdentity({ dryRun: false, force: true, all: true, requestedAt: at })).not.toBe(a);
    expect(
      requestIdentity({
        dryRun: false,
        force: true,
        only: [app1],
        requestedAt: at,
        requestId: 'x',
      }),
    ).toBe('x');
    expect(requestIdentity({ dryRun: false, force: false, requestId: 'x' })).toBeUndefined();
  });
});
