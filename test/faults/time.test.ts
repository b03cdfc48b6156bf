import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsProxy } from '../../tools/aws/fault-proxy.js';
import { daysFromNow, Harness, P1, rowOf } from '../support/harness.js';
import { recordFaultRows } from './fault-table.js';

// The run's deadline: the most urgent users first, the rest deferred to the next runs.

let h: Harness;
beforeEach(async () => {
  h = await Harness.start();
  awsProxy().clear();
});
recordFaultRows(() => h);
afterEach(async () => h.close());

const only = (...users: string[]) => h.config({ projects: [{ projectId: P1, users }] });
const posts = () => h.sim.count('POST', '/certs');

describe('checks before minting', () => {
  it('defers users when the run is out of time, most urgent first', async () => {
    h.sim.addUser(P1, 'none-yet');
    await h.seedDue(P1, 'soon');
    h.sim.addUser(P1, 'later');
    await h.seed(P1, 'later', { notBefore: daysFromNow(-80), notAfter: daysFromNow(10) });
    const config = h.config({
      projects: [{ projectId: P1, users: ['later', 'soon', 'none-yet'] }],
      rotation: { concurrency: 1 },
    });
    // Plenty of time until the first mint is done; then too little for another.
    const deadline = () => Date.now() + (posts() === 0 ? 600_000 : 10_000);

    const report = await h.run(config, {}, { deadline });
    expect(report.users.map((u) => [u.username, u.action])).toEqual([
      ['later', 'deferred'],
      ['soon', 'deferred'],
      ['none-yet', 'rotated'],
    ]);
    expect(rowOf(report, 'soon').reason).toMatch(/^out of time for this run/);
  });
});

describe('time', () => {
  it('a run short of time does the most urgent user and defers the rest; the next runs finish the job', async () => {
    for (const [u, days] of [
      ['in-20', 20],
      ['in-5', 5],
      ['in-10', 10],
    ] as const)
      await h.seedDue(P1, u, days);
    h.sim.addUser(P1, 'none');
    const config = h.config({
      projects: [{ projectId: P1, users: ['in-20', 'in-5', 'in-10', 'none'] }],
      rotation: { concurrency: 1 },
    });
    const order: string[] = [];
    for (let run = 1; run <= 4; run++) {
      const before = posts();
      // Room for exactly one mint per run.
      const report = await h.run(
        config,
        {},
        { deadline: () => Date.now() + (posts() === before ? 600_000 : 10_000) },
      );
      order.push(...report.users.filter((u) => u.action === 'rotated').map((u) => u.username));
      expect(report.summary.failed).toBe(0);
    }
    expect(order).toEqual(['none', 'in-5', 'in-10', 'in-20']);
  });
});

describe('catch-up', () => {
  it('a run that left users deferred is continued by catch-up runs, each starting after the one before; then a tick does nothing', async () => {
    const users = ['u1', 'u2', 'u3'];
    for (const u of users) h.sim.addUser(P1, u);
    // A published bucket with room for one user's list and create, refilled once in 100 s:
    // each run serves one user, its other reads give way (their creates would not fit).
    const stingy = { capacity: 2, refillPerSecond: 0.01, scope: 'project' } as const;
    h.sim.setRateLimit(stingy);
    const config = only(...users);
    const run = (trigger: 'schedule' | 'catch-up') =>
      h.run(config, {}, { trigger, deadline: () => Date.now() + 150_000 });

    const first = await run('schedule');
    expect([first.summary.rotated, first.summary.deferred]).toEqual([1, 2]);
    expect(first.catchUp).toMatchObject({ next: 'catch-up', deferred: 2, runs: 0, of: 24 });
    // Each tick continues where the run before stopped, counting, until nothing is deferred.
    let last = first;
    for (let runs = 1; last.catchUp?.next === 'catch-up'; runs++) {
      expect(runs).toBeLessThanOrEqual(4);
      h.sim.setRateLimit(stingy); // the bucket refilled between ticks
      last = await run('catch-up');
      expect(last.trigger).toBe('catch-up');
      if (last.catchUp?.next === 'catch-up') expect(last.catchUp.runs).toBe(runs);
    }
    // It ends when nothing is left, or when a catch-up run only checked users that can wait.
    expect(last.catchUp?.next).toBe('schedule');
    expect(h.sim.stats.certificatesMinted).toBe(3);
    h.sim.resetRequests();
    const idle = await run('catch-up');
    expect(idle).toMatchObject({ notRun: 'nothing to catch up', users: [] });
    expect(h.sim.requests).toHaveLength(0);
  });
});
