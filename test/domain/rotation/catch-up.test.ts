import { describe, expect, it, vi } from 'vitest';
import { summarize, type UserReport } from '../../../functions/domain/report.js';
import {
  afterRun,
  type CatchUpState,
  farFromRenewal,
  finishRun,
  gateRun,
  keepRunLock,
  LOCK_POLL_MS,
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
    // #25.8: the refusal says what becomes of the run (below), not only who holds the lock.
    expect(await gateRun(table({ owner: 'run-a' }).deps, 'schedule', false)).toMatchObject({
      go: false,
      reason: expect.stringMatching(
        /^another run \(run-a\) holds the run lock until 2026-12-02T03:15:00.000Z; /,
      ),
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

  it('dry runs neither lock nor read; a dry run leaves the note alone', async () => {
    const t = table({ owner: 'someone' });
    expect(await gateRun(t.deps, 'manual', true)).toMatchObject({ go: true, locked: false });
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

  // #25.7: on main a manual run (the CLI, an invoke without scheduledTime) took no lock, so two
  // processes paced their writes at 40/s each.
  it('a manual run takes the run lock too, and releases it', async () => {
    const t = table();
    const gate = await gateRun(t.deps, 'manual', false);
    expect(gate).toEqual({ go: true, previous: undefined, locked: true });
    expect(t.locks.get(RUN_LOCK_KEY)).toBe('me');
    if (!gate.go) throw new Error('unreachable');
    await releaseRun(t.deps, gate);
    expect(t.locks.size).toBe(0);
  });

  it('a manual run refused by the lock names the holder and writes no note', async () => {
    const t = table({ owner: 'run-a' });
    const gate = await gateRun(t.deps, 'manual', false, { maxRuns: 24 });
    expect(gate).toMatchObject({
      go: false,
      lockedOut: { holder: 'run-a', until: '2026-12-02T03:15:00.000Z' },
    });
    if (gate.go) throw new Error('unreachable');
    expect(gate.reason).toContain('another run (run-a) holds the run lock');
    expect(gate.reason).toContain('run again once it has finished');
    expect(t.writes).toEqual([]);
  });

  it('a manual run waits a bounded time for the lock, polling, then goes', async () => {
    const t = table({ owner: 'run-a' });
    let clock = Date.parse('2026-12-02T03:00:00Z');
    const slept: number[] = [];
    const sleep = async (ms: number) => {
      slept.push(ms);
      clock += ms;
      // The holder finishes during the second wait.
      if (slept.length === 2) t.locks.delete(RUN_LOCK_KEY);
    };
    const now = () => new Date(clock);
    const gate = await gateRun(t.deps, 'manual', false, { maxRuns: 1, waitMs: 60_000, now, sleep });
    expect(gate).toMatchObject({ go: true, locked: true });
    expect(slept).toEqual([LOCK_POLL_MS, LOCK_POLL_MS]);
    // Never longer than asked.
    const held = table({ owner: 'run-a' });
    const waited: number[] = [];
    const refusedGate = await gateRun(held.deps, 'manual', false, {
      maxRuns: 1,
      waitMs: 12_000,
      now,
      sleep: async (ms) => {
        waited.push(ms);
        clock += ms;
      },
    });
    expect(refusedGate).toMatchObject({ go: false, lockedOut: { holder: 'run-a' } });
    expect(waited).toEqual([5_000, 5_000, 2_000]);
  });

  it('keeps a held run lock alive by re-taking it, and stops when told', async () => {
    vi.useFakeTimers();
    try {
      const t = table();
      let taken = 0;
      const acquire = t.deps.leases.acquire;
      t.deps.leases.acquire = async (key) => {
        taken += 1;
        return acquire(key);
      };
      const gate = await gateRun(t.deps, 'schedule', false);
      if (!gate.go) throw new Error('unreachable');
      const stop = keepRunLock(t.deps, gate, 300_000);
      await vi.advanceTimersByTimeAsync(900_000);
      expect(taken).toBe(1 + 3);
      stop();
      await vi.advanceTimersByTimeAsync(900_000);
      expect(taken).toBe(4);
    } finally {
      vi.useRealTimers();
    }
  });
});

// #25.8: on main a scheduled run the lock refused returned `notRun`, left no note and was never
// retried: after a crashed run that left the lock, that day's run did not happen.
describe('catch-up: a scheduled run refused by the lock is not dropped', () => {
  const at = () => new Date('2026-12-02T03:01:00Z');

  it('leaves a catch-up note, and says so', async () => {
    const t = table({ owner: 'crashed-run' });
    const gate = await gateRun(t.deps, 'schedule', false, { maxRuns: 24, now: at });
    expect(gate).toMatchObject({
      go: false,
      lockedOut: {
        holder: 'crashed-run',
        retry: 'a catch-up note is left: the catch-up schedule runs it once the lock is free',
      },
    });
    expect(t.writes).toEqual([{ runs: 0, since: '2026-12-02T03:01:00.000Z' }]);
    // The next catch-up tick finds the note; once the lock is free, it runs.
    t.locks.delete(RUN_LOCK_KEY);
    expect(await gateRun(t.deps, 'catch-up', false, { maxRuns: 24 })).toMatchObject({
      go: true,
      locked: true,
      previous: { runs: 0 },
    });
  });

  it("keeps a chain's note as it is, and a refused catch-up tick keeps its note", async () => {
    const t = table({ owner: 'run-a' });
    t.setNote({ runs: 5, since: 'then' });
    expect(await gateRun(t.deps, 'schedule', false, { maxRuns: 24 })).toMatchObject({
      go: false,
    });
    expect(await gateRun(t.deps, 'catch-up', false, { maxRuns: 24 })).toMatchObject({
      go: false,
      lockedOut: { retry: 'the catch-up note stays: the next tick runs it' },
    });
    expect(t.writes).toEqual([]);
  });

  it('says it is not retried when catch-up runs are off', async () => {
    const t = table({ owner: 'run-a' });
    const gate = await gateRun(t.deps, 'schedule', false, { maxRuns: 0 });
    expect(gate).toMatchObject({
      go: false,
      lockedOut: { retry: expect.stringContaining('not retried: catch-up runs are off') },
    });
    expect(t.writes).toEqual([]);
  });
});
