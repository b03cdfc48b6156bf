import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsProxy } from '../../tools/aws/fault-proxy.js';
import { readSecret } from '../../tools/aws/seed.js';
import { Harness, P1, rowOf } from '../support/harness.js';
import { recordFaultRows } from './fault-table.js';

// Creates whose responses were lost (orphans) and the limits that stop minting when they recur.

let h: Harness;
beforeEach(async () => {
  h = await Harness.start();
  awsProxy().clear();
});
recordFaultRows(() => h);
afterEach(async () => h.close());

const only = (...users: string[]) => h.config({ projects: [{ projectId: P1, users }] });
const posts = () => h.sim.count('POST', '/certs');

describe('crash safety', () => {
  it('after a create whose response was lost, lists again, reports the orphan and still ends with a stored certificate', async () => {
    await h.seedDue(P1, 'app1');
    h.sim.injectFault({ method: 'POST', path: '/certs', action: { type: 'resetAfterProcessing' } });

    const report = await h.run(only('app1'));
    const r = rowOf(report, 'app1');
    expect(r.action).toBe('rotated');
    expect(posts()).toBe(2);
    const minted = h.sim.certificates(P1, 'app1').map((c) => c.serialNumber);
    expect(r.orphans).toHaveLength(1);
    expect(minted).toContain(r.orphans[0]);
    expect(r.orphans[0]).not.toBe(r.serialNumber);
    expect((await readSecret(h.secretName(P1, 'app1'))).current.serialNumber).toBe(r.serialNumber);
  });

  it('stops minting at the orphan limit when the fault recurs', async () => {
    await h.seedDue(P1, 'app1', 20);
    h.sim.injectFault({
      method: 'POST',
      path: '/certs',
      times: Number.POSITIVE_INFINITY,
      action: { type: 'resetAfterProcessing' },
    });

    const first = rowOf(await h.run(only('app1')), 'app1');
    expect(first).toMatchObject({ action: 'failed', errorCode: 'CREATE_OUTCOME_UNKNOWN' });
    expect(first.orphans).toHaveLength(2);
    expect(posts()).toBe(2);

    const second = rowOf(await h.run(only('app1')), 'app1');
    expect(second).toMatchObject({ action: 'failed', errorCode: 'ORPHAN_LIMIT' });
    expect(second.remedy).toMatch(/cannot be deleted/);
    expect(second.orphans).toEqual(first.orphans);
    expect(posts()).toBe(2);
  });

  it('refuses to mint for a user that already has two recent orphans', async () => {
    await h.seedDue(P1, 'app1', 20);
    // Minted after the secret was created, held by no version: keys lost.
    const lost = [await h.sim.mintCertificate(P1, 'app1'), await h.sim.mintCertificate(P1, 'app1')];
    const r = rowOf(await h.run(only('app1')), 'app1');
    expect(r).toMatchObject({ action: 'failed', errorCode: 'ORPHAN_LIMIT' });
    expect(r.orphans.sort()).toEqual(lost.map((c) => c.serialNumber).sort());
    expect(posts()).toBe(0);
  });

  it('does not park a user about to expire at the orphan limit, but stops at the mint cap', async () => {
    await h.seedDue(P1, 'app1');
    await h.sim.mintCertificate(P1, 'app1');
    await h.sim.mintCertificate(P1, 'app1');
    h.sim.injectFault({
      method: 'POST',
      path: '/certs',
      times: 2,
      action: { type: 'resetAfterProcessing' },
    });

    // Past the orphan limit the critical floor still creates once per run…
    const first = rowOf(await h.run(only('app1')), 'app1');
    expect(first).toMatchObject({ action: 'failed', errorCode: 'ORPHAN_LIMIT' });
    expect(posts()).toBe(1);
    const second = rowOf(await h.run(only('app1')), 'app1');
    expect(posts()).toBe(2);
    // …until Atlas lists four certificates created this week: the hard cap (default 4) stops
    // even a critical user, before any create.
    expect(second).toMatchObject({ action: 'failed', errorCode: 'MINT_CAP' });
    const third = rowOf(await h.run(only('app1')), 'app1');
    expect(third).toMatchObject({ action: 'failed', errorCode: 'MINT_CAP' });
    expect(third.orphans).toHaveLength(4);
    expect(posts()).toBe(2);
    // An operator who expects more raises the cap; the next run mints.
    const raised = { ...only('app1'), rotation: { maxMintsPerWindow: 6 } };
    const fourth = rowOf(await h.run(raised), 'app1');
    expect(fourth.action).toBe('rotated');
    expect(fourth.orphans).toHaveLength(4);
  });
});
