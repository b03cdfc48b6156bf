import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OWN_ACCESS_TAG } from '../../functions/adapters/aws/secret-store/tags.js';
import { runMetrics } from '../../functions/adapters/signals.js';
import { sm } from '../../tools/aws/seed.js';
import { daysFromNow, Harness, P1, rowOf } from '../support/harness.js';

/**
 * Through the real adapter and moto_server: a promotion records its day in the own-access tag,
 * and the next run reports the secret while the previous certificate has days left. moto
 * (5.2) never records an access (LastAccessedDate is always null,
 * `test/adapters/aws/secret-store/last-accessed.test.ts`), so here the secret reads as never
 * read; a secret re-read after its promotion is shown on the fakes
 * (`test/domain/rotation/upkeep/stale-readers.test.ts`).
 */

let h: Harness;
beforeEach(async () => {
  h = await Harness.start();
});
afterEach(async () => h.close());

describe('stale consumers end to end (simulator + moto_server)', () => {
  it('reports, counts and explains a secret nobody read after its rotation, 5 days before the old certificate expires', async () => {
    h.sim.addUser(P1, 'billing');
    h.sim.addUser(P1, 'reporting');
    const old = await h.seed(P1, 'billing', {
      notBefore: daysFromNow(-85),
      notAfter: daysFromNow(5),
    });
    await h.seed(P1, 'reporting');
    const config = h.config({ projects: [{ projectId: P1, users: ['billing', 'reporting'] }] });

    const before = Date.now();
    const rotated = await h.run(config);
    expect(rowOf(rotated, 'billing').action).toBe('rotated');
    // A promotion is no stale consumer yet: the report starts from the next run.
    expect(rowOf(rotated, 'billing').consumers).toBeUndefined();
    const described = await sm().send(
      new DescribeSecretCommand({ SecretId: h.secretName(P1, 'billing') }),
    );
    const tag = described.Tags?.find((t) => t.Key === OWN_ACCESS_TAG)?.Value;
    expect(Date.parse(tag ?? '')).toBeGreaterThanOrEqual(before - 1000);

    const next = await h.run(config);
    const billing = rowOf(next, 'billing');
    expect(billing).toMatchObject({ action: 'skipped', consumers: 'stale' });
    expect(billing.reason).toContain(`previous certificate ${old.serialNumber} expires`);
    expect(billing.reason).toContain('never read');
    // The healthy user has no previous version: nothing to tell.
    expect(rowOf(next, 'reporting').consumers).toBeUndefined();
    expect(runMetrics(next, new Date(), { criticalDays: 7 }).StaleConsumers).toBe(1);
  });
});
