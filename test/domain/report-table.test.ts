import { describe, expect, it } from 'vitest';
import { type RunReport, summarize, type UserReport } from '../../functions/domain/report.js';
import { formatReport, REASON_WIDTH } from '../../functions/domain/report-table.js';

const row = (over: Partial<UserReport>): UserReport => ({
  projectId: '5e2211c17a3e5a48f5497de3',
  username: 'app1',
  secretName: 's',
  secretArn: undefined,
  action: 'failed',
  reason: 'r',
  serialNumber: undefined,
  notAfter: undefined,
  orphans: [],
  ...over,
});

const report = (users: UserReport[], extra: Partial<RunReport> = {}): RunReport => ({
  runId: 'run-1',
  dryRun: false,
  startedAt: '',
  finishedAt: '',
  summary: summarize(users),
  users,
  ...extra,
});

describe('the report table', () => {
  it('keeps each row short and says each remedy once, with the users it concerns', () => {
    const long = `Atlas refused: ${'x'.repeat(300)}`;
    const text = formatReport(
      report([
        row({
          username: 'a',
          reason: long,
          errorCode: 'USER_NOT_MANAGED_X509',
          remedy: 'Make it MANAGED.',
        }),
        row({
          username: 'b',
          reason: long,
          errorCode: 'USER_NOT_MANAGED_X509',
          remedy: 'Make it MANAGED.',
        }),
        row({ username: 'c', action: 'skipped', reason: 'not due', orphans: ['1', '2'] }),
      ]),
    );
    const lines = text.split('\n');
    const a = lines.find((l) => l.includes(' a '));
    expect(a).toMatch(/failed +- +- +Atlas refused: x+… \[USER_NOT_MANAGED_X509\]$/);
    expect(a?.split('  ').pop()?.length).toBeLessThan(REASON_WIDTH + 30);
    expect(text).toMatch(/ c +skipped .*not due \+2 orphans/);
    expect(text).toContain('What to do:\n  [USER_NOT_MANAGED_X509] Make it MANAGED. (2 users)\n');
    expect(text.match(/Make it MANAGED/g)).toHaveLength(1);
  });

  it('says when a catch-up run follows, and why a run did nothing', () => {
    const deferred = row({
      action: 'deferred',
      reason: 'out of time for this run; the next run continues',
    });
    const next = { next: 'catch-up', deferred: 1, runs: 2, of: 24, since: 'x' } as const;
    expect(formatReport(report([deferred], { catchUp: next }))).toContain(
      'Catch-up: 1 users deferred; the catch-up schedule continues (2 of 24 catch-up runs so far)',
    );
    const ended = { next: 'schedule', reason: 'nothing deferred' } as const;
    expect(formatReport(report([row({})], { catchUp: ended }))).not.toContain('Catch-up');
    expect(formatReport(report([], { notRun: 'nothing to catch up' }))).toContain(
      'Not run: nothing to catch up',
    );
  });

  it("names a forced run's request, or says why it has no id", () => {
    const forced = row({ action: 'rotated', reason: 'forced' });
    expect(formatReport(report([forced], { requestId: 'cli-42' })).split('\n')[0]).toBe(
      'Run run-1, request cli-42',
    );
    expect(formatReport(report([forced], { requestNote: 'no id' })).split('\n')[0]).toBe(
      'Run run-1 (no id)',
    );
    expect(formatReport(report([forced])).split('\n')[0]).toBe('Run run-1');
  });

  it('says a run-wide stop once, below the rows, and where the events went', () => {
    const stopped = report(
      [
        row({ username: 'a', reason: 'run stopped (see error)', errorCode: 'AWS_REGION_MISSING' }),
        row({ username: 'b', reason: 'run stopped (see error)', errorCode: 'AWS_REGION_MISSING' }),
      ],
      {
        error: {
          code: 'AWS_REGION_MISSING',
          message: 'Region is missing',
          remedy: 'Set AWS_REGION.',
        },
        events: { skipped: 'the run stopped' },
      },
    );
    const text = formatReport(stopped);
    expect(text.match(/run stopped \(see below\)/g)).toHaveLength(2);
    expect(text.match(/Set AWS_REGION/g)).toHaveLength(1);
    expect(text).toMatch(
      /\nEvents: none sent \(the run stopped\)\nRun stopped: Region is missing \[AWS_REGION_MISSING\] → Set AWS_REGION\.\n$/,
    );
    expect(
      formatReport(report([], { events: { bus: 'default', published: 3, dropped: 0 } })),
    ).toContain('Events: 3 published on bus default\n');
  });
});
