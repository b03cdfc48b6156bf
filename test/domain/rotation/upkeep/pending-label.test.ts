import { describe, expect, it } from 'vitest';
import { APP1, P1 } from '../../../support/fakes/fixtures.js';
import { datesFor } from '../../../support/fakes/pki.js';
import { fakeWorlds, holding, rotate, rowOf, userOf } from '../../../support/world.js';

/** The hard-timing rules of the engine, on the fake clock: leases, the mint cap, list lag. */

const app1 = APP1;
const world = fakeWorlds();

describe('engine: a promotion stopped between its two label moves', () => {
  const leftOnCurrent = async (ctx: ReturnType<typeof world>) => {
    await holding(ctx, app1, datesFor(ctx.clock, 60));
    const name = userOf(ctx, P1, 'app1').secretName;
    const current = ctx.store.secrets
      .get(name)
      ?.versions.find((v) => v.stages.includes('AWSCURRENT'));
    current?.stages.push('AWSPENDING');
    return { name, currentId: current?.id ?? '' };
  };

  it('removes the AWSPENDING label left on the current version, minting nothing', async () => {
    const ctx = world();
    const { name, currentId } = await leftOnCurrent(ctx);
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row.action).toBe('skipped');
    expect(row.reason).toMatch(/removed an AWSPENDING label left on the current version$/);
    expect(ctx.store.labels(name)[currentId]).toEqual(['AWSCURRENT']);
    expect(ctx.atlas.calls.count('createCertificate')).toBe(0);
  });

  it('a dry run leaves it', async () => {
    const ctx = world();
    const { name, currentId } = await leftOnCurrent(ctx);
    await rotate(ctx, { dryRun: true });
    expect(ctx.store.labels(name)[currentId]).toEqual(['AWSCURRENT', 'AWSPENDING']);
  });
});
