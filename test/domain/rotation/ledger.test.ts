import { describe, expect, it } from 'vitest';
import { atlasErrorCode } from '../../../functions/domain/error-codes.js';
import { DeadlineError, RotatorError } from '../../../functions/domain/errors.js';
import type { Log } from '../../../functions/domain/log.js';
import { STOPPED_REASON, type UserReport } from '../../../functions/domain/report.js';
import { Ledger } from '../../../functions/domain/rotation/ledger.js';
import { type Outcome, outcome, UserFailure } from '../../../functions/domain/rotation/outcomes.js';
import type { UserRef } from '../../../functions/domain/rotation/request.js';
import type { SecretState } from '../../../functions/domain/stored-value.js';

interface Entry {
  level: keyof Log;
  message: string;
  attrs: Record<string, unknown>;
}
const recording = () => {
  const entries: Entry[] = [];
  const to =
    (level: keyof Log) =>
    (message: string, ...attrs: Record<string, unknown>[]) => {
      entries.push({ level, message, attrs: Object.assign({}, ...attrs) });
    };
  const log: Log = { debug: to('debug'), info: to('info'), warn: to('warn'), error: to('error') };
  return { ledger: new Ledger(log), entries };
};

const P1 = '5e2211c17a3e5a48f5497de3';
const P2 = '6f3322d28b4f6b59a6508ef4';
const row = (projectId: string, username: string) => ({
  projectId,
  username,
  secretName: `s/${username}`,
});
const a1 = row(P1, 'a1');
const a2 = row(P1, 'a2');
const b1 = row(P2, 'b1');
const users = [a1, a2, b1];

const projectErr = new RotatorError('not in group', {
  code: 'NOT_IN_GROUP',
  remedy: 'add the key',
  scope: 'project',
});
const runErr = new RotatorError('credentials rejected', {
  code: atlasErrorCode('UNAUTHORIZED'),
  remedy: 'fix them',
  scope: 'run',
});
const userErr = new RotatorError('user not found', { code: 'USER_NOT_FOUND', remedy: 'create it' });
const NIG = 'NOT_IN_GROUP';
const UNAUTH = 'UNAUTHORIZED';
const deadline = new DeadlineError('out of time waiting for Atlas', {
  code: 'DEADLINE_EXCEEDED',
  remedy: 'none',
});

const notBefore = new Date('2026-08-10T02:06:35Z');
const notAfter = new Date('2026-11-10T03:06:35Z');
const pem = { certificate: 'C', privateKey: 'K', pem: 'CK' };
const state = (arn: string, serialNumber: string): SecretState => ({
  name: 's/a1',
  arn,
  createdDate: new Date(0),
  deletedDate: undefined,
  versions: new Map([['v1', ['AWSCURRENT']]]),
  currentVersionId: 'v1',
  pendingVersionId: undefined,
  current: {
    kind: 'ours',
    value: { projectId: P1, username: 'a1', ...pem, serialNumber, notBefore, notAfter },
  },
  notAfterHint: undefined,
});
const held = state('arn:held', '100');
const heldOut = { secretArn: 'arn:held', serialNumber: '100', notAfter: notAfter.toISOString() };

/** A row in one word: who, and its error code or action. */
const word = (r: UserReport) => `${r.username}:${r.errorCode ?? r.action}`;
const codeOf = (o: Outcome | undefined) => o?.errorCode;

describe('ledger: rows', () => {
  it('keeps the last row per user and returns rows in config order, skipping users without one', () => {
    const { ledger } = recording();
    ledger.record(b1, outcome(undefined, 'skipped', 'not due'));
    ledger.record(a2, outcome(undefined, 'deferred', 'out of time'));
    ledger.record(a1, outcome(undefined, 'planned', 'would mint'));
    ledger.record(a1, outcome(undefined, 'rotated', 'minted'));
    expect(ledger.rowsFor([a1, row(P1, 'nobody'), a2, b1], undefined).map(word)).toEqual([
      'a1:rotated',
      'a2:deferred',
      'b1:skipped',
    ]);
    expect(ledger.rowsFor([b1, a1], undefined).map(word)).toEqual(['b1:skipped', 'a1:rotated']);
  });

  it.each<[Outcome['action'], keyof Log]>([
    ['rotated', 'info'],
    ['skipped', 'info'],
    ['deferred', 'info'],
    ['failed', 'error'],
  ])('logs a %s row at %s, with its identifying fields', (action, level) => {
    const { ledger, entries } = recording();
    expect(
      ledger.record(a1, { ...outcome(undefined, action, 'why'), orphans: ['7'] }),
    ).toBeUndefined();
    expect(entries).toEqual([
      {
        level,
        message: 'user done',
        attrs: {
          projectId: P1,
          username: 'a1',
          action,
          reason: 'why',
          serialNumber: undefined,
          errorCode: undefined,
          orphans: ['7'],
        },
      },
    ]);
  });

  const ghost = { projectId: P1, username: 'ghost' };
  const nothing = () => {};
  const p2Fails = (l: Ledger) => l.discoveryFailed(P2, projectErr);
  const p1Fails = (l: Ledger) => l.discoveryFailed(P1, projectErr);
  it.each<[string, (l: Ledger) => void, UserRef[] | undefined, string[]]>([
    ['nothing failed', nothing, undefined, ['a1:rotated']],
    ['a failed discovery without rows', p2Fails, undefined, ['a1:rotated', '*:NOT_IN_GROUP']],
    ['a failed discovery with rows', p1Fails, undefined, ['a1:rotated']],
    [
      'an only user the config lacks',
      nothing,
      [a1, ghost],
      ['a1:rotated', 'ghost:USER_NOT_CONFIGURED'],
    ],
    ['an only user that is configured', nothing, [a1], ['a1:rotated']],
    ['an only user of a failed project', p2Fails, [row(P2, 'x')], ['a1:rotated', '*:NOT_IN_GROUP']],
  ])('adds standalone rows: %s', (_, setup, only, want) => {
    const { ledger } = recording();
    setup(ledger);
    ledger.record(a1, outcome(undefined, 'rotated', 'minted'));
    expect(ledger.rowsFor([a1], only).map(word)).toEqual(want);
  });

  it('gives standalone rows no secret, and the failure’s message and remedy', () => {
    const { ledger } = recording();
    ledger.discoveryFailed(P2, projectErr);
    const base = {
      secretName: '-',
      secretArn: undefined,
      serialNumber: undefined,
      notAfter: undefined,
      orphans: [],
      action: 'failed',
    };
    expect(ledger.rowsFor([], [ghost])).toEqual([
      {
        ...base,
        projectId: P2,
        username: '*',
        reason: 'not in group',
        errorCode: 'NOT_IN_GROUP',
        remedy: 'add the key',
      },
      {
        ...base,
        ...ghost,
        reason: expect.stringMatching(/^not a configured user/),
        errorCode: 'USER_NOT_CONFIGURED',
        remedy: expect.stringContaining('Add the user to the config'),
      },
    ]);
  });
});

describe('ledger: escalate', () => {
  const none = [undefined, undefined, undefined];
  it.each<[string, unknown, boolean, (string | undefined)[], string | undefined]>([
    ['a plain Error', new Error('boom'), false, none, undefined],
    ['a thrown string', 'boom', false, none, undefined],
    ['a user-scope RotatorError', userErr, false, none, undefined],
    ['a UserFailure', new UserFailure('m', 'SECRET_FOREIGN_VALUE', 'r'), false, none, undefined],
    ['a DeadlineError', deadline, false, none, undefined],
    ['a project failure', projectErr, true, [NIG, NIG, undefined], undefined],
    ['a run failure', runErr, true, [UNAUTH, UNAUTH, UNAUTH], UNAUTH],
  ])('routes %s', (_, err, escalates, stopped, runCode) => {
    const { ledger } = recording();
    expect(ledger.escalate(P1, err)).toBe(escalates);
    expect(users.map((u) => codeOf(ledger.stopped(u)))).toEqual(stopped);
    expect(ledger.runFailure?.code).toBe(runCode);
  });

  it('stops the rest of a project with its first failure, logged once', () => {
    const { ledger, entries } = recording();
    const second = new RotatorError('later', {
      code: 'GROUP_NOT_FOUND',
      remedy: 'r',
      scope: 'project',
    });
    expect(ledger.escalate(P1, projectErr)).toBe(true);
    expect(ledger.escalate(P1, second)).toBe(true);
    expect(ledger.stopped(a2)).toEqual({
      ...outcome(undefined, 'failed', 'not in group'),
      errorCode: 'NOT_IN_GROUP',
      remedy: 'add the key',
    });
    expect(entries.filter((e) => e.message === 'project failed')).toEqual([
      {
        level: 'error',
        message: 'project failed',
        attrs: { projectId: P1, errorCode: 'NOT_IN_GROUP' },
      },
    ]);
  });

  it('stops every user of the run with its first failure; a project’s own failure comes first', () => {
    const { ledger } = recording();
    ledger.escalate(P1, runErr);
    ledger.escalate(
      P2,
      new RotatorError('second', { code: 'LEASE_TABLE_MISSING', remedy: 'r', scope: 'run' }),
    );
    expect(ledger.runFailure).toEqual({
      code: UNAUTH,
      message: 'credentials rejected',
      remedy: 'fix them',
    });
    // The row points at the report's error; the message and remedy are said there, once.
    expect(ledger.stopped(b1)).toEqual({
      ...outcome(undefined, 'failed', STOPPED_REASON),
      errorCode: UNAUTH,
    });
    ledger.escalate(P1, projectErr);
    expect(users.map((u) => codeOf(ledger.stopped(u)))).toEqual([NIG, NIG, UNAUTH]);
  });

  it.each<[string, unknown, string | undefined, string | undefined]>([
    ['a project failure', projectErr, 'NOT_IN_GROUP', undefined],
    ['a plain Error', new Error('DNS'), 'INTERNAL_ERROR', undefined],
    ['a user-scope RotatorError', userErr, 'USER_NOT_FOUND', undefined],
    ['a run failure', runErr, 'UNAUTHORIZED', 'UNAUTHORIZED'],
  ])('discoveryFailed with %s stops the project (or the run)', (_, err, stoppedCode, runCode) => {
    const { ledger } = recording();
    ledger.discoveryFailed(P1, err);
    expect(codeOf(ledger.stopped(a1))).toBe(stoppedCode);
    expect(ledger.runFailure?.code).toBe(runCode);
  });
});

describe('ledger: failUser', () => {
  const known = { state: held, orphans: ['7', '8'] };
  const retry = expect.stringMatching(/^Retry the run/);
  it.each<[string, unknown, Outcome['action'], string, string | undefined, unknown]>([
    ['a user failure', userErr, 'failed', 'user not found', 'USER_NOT_FOUND', 'create it'],
    [
      'a DeadlineError',
      deadline,
      'deferred',
      'out of time waiting for Atlas',
      undefined,
      undefined,
    ],
    [
      'a plain Error',
      new Error('boom'),
      'failed',
      'unexpected error: Error: boom',
      'INTERNAL_ERROR',
      retry,
    ],
    ['a thrown string', 'oops', 'failed', 'unexpected error: Error: oops', 'INTERNAL_ERROR', retry],
    ['a project failure', projectErr, 'failed', 'not in group', NIG, 'add the key'],
    ['a run failure', runErr, 'failed', STOPPED_REASON, UNAUTH, undefined],
  ])('maps %s to %s, keeping the orphans', (_, err, action, reason, code, remedy) => {
    const out = recording().ledger.failUser(a1, err, known);
    expect(out).toMatchObject({ action, reason, orphans: ['7', '8'] });
    expect([out.errorCode, out.remedy]).toEqual([code, remedy]);
    // A failure of the user alone still shows what the secret holds.
    if (!(err instanceof RotatorError) || err.scope === 'user') expect(out).toMatchObject(heldOut);
  });

  it('a failure that escalates stops the project’s later users too', () => {
    const { ledger } = recording();
    ledger.failUser(a1, projectErr, known);
    expect(codeOf(ledger.stopped(a2))).toBe('NOT_IN_GROUP');
    expect(ledger.stopped(b1)).toBeUndefined();
  });

  it.each<[string, unknown, Parameters<Ledger['failUser']>[2], Partial<Outcome>]>([
    [
      'the held certificate given',
      userErr,
      { state: held, held: { serialNumber: '5', notBefore, notAfter } },
      { secretArn: 'arn:held', serialNumber: '5' },
    ],
    ['the state’s certificate when none is given', userErr, { state: held }, heldOut],
    [
      'a UserFailure’s state',
      new UserFailure('refused', 'SECRET_FOREIGN_VALUE', 'r', held),
      {},
      { ...heldOut, errorCode: 'SECRET_FOREIGN_VALUE' },
    ],
    [
      'the known state over the UserFailure’s',
      new UserFailure('m', 'SECRET_FOREIGN_VALUE', 'r', held),
      { state: state('arn:newer', '200') },
      { secretArn: 'arn:newer', serialNumber: '200' },
    ],
    [
      'nothing when nothing is known',
      new UserFailure('m', 'SECRET_FOREIGN_VALUE', 'r'),
      undefined,
      { secretArn: undefined, serialNumber: undefined, notAfter: undefined, orphans: [] },
    ],
  ])('reports %s', (_, err, given, want) => {
    expect(recording().ledger.failUser(a1, err, given)).toMatchObject(want);
  });
});
