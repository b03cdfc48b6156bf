import { describe, expect, it } from 'vitest';
import { summarize, type UserReport } from '../../../functions/domain/report.js';
import {
  afterRun,
  type CatchUpState,
  farFromRenewal,
  finishRun,
  gateRun,
  RUN_LOCK_KEY,
  releaseRun,
} from '../../../functions/domain/rotation/catch-up.js';
import type { LeasePort, LeaseResult } from '../../../functions/domain/rotation/ports.js';
import { RecordingLog } from '../../support/fakes/log.js';

const row = (i: number, notAfter?: string): UserReport => ({
  projectId: 'p',
  username: `u${i}`,
  secretName: `s/u${i}`,
  secretArn: undefined,
  action: 'deferred',
  reason: 'out of time for this run; the next run continues',
  serialNumber: undefined,
  notAfter,
  orphans: [],
});
const ended = (deferred: number, dryRun = false, rotated = deferred > 0 ? 0 : 1) => ({
  dryRun,
  finishedAt: '2026-12-02T03:05:00.000Z',
  summary: { ...summarize([]), deferred, rotated },
  users: Array.from({ length: deferred }, (_, i) => row(i)),
});

/** The lease table's two uses here, in memory: the note and the run lock. */
const table = (held?: { owner: string }) => {
  let note: CatchUpState | undefined;
  const writes: (CatchUpState | undefined)[] = [];
  const locks = new Map<string, string>(held ? [[RUN_LOCK_KEY, held.owner]] : []);
  const leases: LeasePort = {
    check: async () => {},
    acquire: async (key): Promise<LeaseResult> => {
      const owner = locks.get(key);
      const expiresAt = new Date('2026-12-02T03:15:00Z');
      if (owner) return { acquired: false, owner, expiresAt };
      locks.set(key, 'me');
      return { acquired: true, expiresAt };
    },
    release: async (key) => {
      if (locks.get(key) === 'me') locks.delete(key);
    },
  };
  const notes = {
    readCatchUp: async () => note,
    writeCatchUp: async (state: CatchUpState | undefined) => {
      writes.push(state);
      note = state;
    },
  };
  return {
    deps: { notes, leases, log: new RecordingLog() },
    writes,
    locks,
    setNote: (s: CatchUpState) => (note = s),
  };
};

describe('catch-up: what follows a run', () => {
  it('a run that deferred users leaves a note; each catch-up counts; the chain ends at the limit', () => {
    expect(afterRun(ended(40), 'schedule', undefined, 3)).toEqual({
      state: { runs: 0, since: '2026-12-02T03:05:00.000Z' },
      report: { next: 'catch-up', deferred: 40, runs: 0, of: 3, since: '2026-12-02T03:05:00.000Z' },
    });
    const chain = { runs: 1, since: '2026-12-02T01:00:00.000Z' };
    expect(afterRun(ended(20, false, 5), 'catch-up', chain, 3).state).toEqual({
      runs: 2,
      since: chain.since,
    });
    expect(afterRun(ended(5, false, 5), 'catch-up', { ...chain, runs: 2 }, 3)).toEqual({
      state: undefined,
      report: {
        next: 'schedule',
        reason: '3 catch-up runs in a row; the regular schedule continues',
      },
    });
  });

  it('a catch-up run that rotated nobody ends the chain: the users left can wait', () => {
    const chain = { runs: 1, since: '2026-12-02T01:00:00.000Z' };
    expect(afterRun(ended(7), 'catch-up', chain, 24)).toEqual({
      state: undefined,
      report: {
        next: 'schedule',
        reason: 'the catch-up run rotated nobody; the 7 users left wait for the regular schedule',
      },
    });
  });

  it('users deferred but known far from renewal need no catch-up: the regular schedule checks them', () => {
    const now = new Date('2026-12-02T03:05:00Z');
    const canWait = farFromRenewal(() => 30, now);
    const healthy = {
      ...ended(2, false, 3),
      users: [row(1, '2027-03-01T00:00:00Z'), row(2, '2027-02-20T00:00:00Z')],
    };
    expect(afterRun(healthy, 'catch-up', { runs: 2, since: 'x' }, 24, canWait)).toEqual({
      state: undefined,
      report: {
        next: 'schedule',
        reason:
          'the 2 users left hold certificates far from renewal; the regular schedule checks them',
      },
    });
    // One within its window (or with no known expiry) keeps the chain going.
    const due = {
      ...healthy,
      users: [row(1, '2027-03-01T00:00:00Z'), row(2, '2026-12-20T00:00:00Z')],
    };
    expect(afterRun(due, 'catch-up', { runs: 2, since: 'x' }, 24, canWait).report).toMatchObject({
      next: 'catch-up',
      deferred: 1,
    });
  });

  it('nothing deferred clears the note; catchUpRuns 0 never leaves one', () => {
    expect(afterRun(ended(0), 'catch-up', { runs: 4, since: 'x' }, 24).state).toBeUndefined();
    expect(afterRun(ended(9), 'schedule', undefined, 0).report).toEqual({
      next: 'schedule',
      reason: 'catch-up runs are off (rotation.catchUpRuns: 0)',
    });
  });
});

describe('catch-up: the gate before a run', () => {
  it('a catch-up tick with no note ends after one read, without the lock', async () => {
    const t = table();
    expect(await gateRun(t.deps, 'catch-up', false)).toEqual({
      go: false,
      reason: 'nothing to catch up',
    });
    expect(t.locks.size).toBe(0);
  });

  it('scheduled and catch-up runs take the run lock and release it; another holder stops them', async () => {
    const t = table();
    t.setNote({ runs: 0, since: 'then' });
    const gate = await gateRun(t.deps, 'catch-up', false);
    expect(gate).toEqual({ go: true, previous: { runs: 0, since: 'then' }, locked: true });
    expect(await gateRun(table({ owner: 'run-a' }).deps, 'schedule', false)).toEqual({
      go: false,
      reason: 'another run (run-a) holds the run lock until 2026-12-02T03:15:00.000Z',
    });
    if (!gate.go) throw new Error('unreachable');
    expect(
      await finishRun(
        t.deps,
        gate,
        'catch-up',
        { ...ended(0), runId: 'r', startedAt: 'x', users: [] },
        24,
      ),
    ).toEqual({
      next: 'schedule',
      reason: 'nothing deferred',
    });
    await releaseRun(t.deps, gate);
    expect([t.writes, t.locks.size]).toEqual([[undefined], 0]);
  });

  it('manual runs and dry runs neither lock nor read; a dry run leaves the note alone', async () => {
    const t = table({ owner: 'someone' });
    expect(await gateRun(t.deps, 'manual', false)).toMatchObject({ go: true, locked: false });
    const dry = await gateRun(t.deps, 'schedule', true);
    expect(dry).toMatchObject({ go: true, locked: false });
    if (!dry.go) throw new Error('unreachable');
    const report = { ...ended(10, true), runId: 'r', startedAt: 'x', users: [] };
    expect(await finishRun(t.deps, dry, 'schedule', report, 24)).toBeUndefined();
    expect(t.writes).toEqual([]);
  });

  it('a lock that cannot be taken for another reason does not stop the run', async () => {
    const t = table();
    t.deps.leases.acquire = async () => {
      throw new Error('throttled');
    };
    expect(await gateRun(t.deps, 'schedule', false)).toMatchObject({ go: true, locked: false });
    expect(t.deps.log.entries.map((e) => e.message)).toContain(
      'cannot take the run lock; running without it',
    );
  });
});
