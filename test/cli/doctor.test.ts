import { describe, expect, it } from 'vitest';
import { AtlasApiError } from '../../functions/adapters/atlas/errors.js';
import type { CheckResult } from '../../functions/cli/doctor/findings.js';
import { verdictOf } from '../../functions/cli/doctor/format.js';
import { dryRunFinding, predict } from '../../functions/cli/doctor/predict.js';
import { parseConfig } from '../../functions/domain/config/resolve.js';
import {
  type RunReport,
  STOPPED_REASON,
  summarize,
  type UserReport,
} from '../../functions/domain/report.js';

/** doctor's predictions from a dry-run report and its own findings (the e2e tests run them for real). */

const P1 = '5e2211c17a3e5a48f5497de3';
const config = parseConfig({
  defaults: { kmsKeyId: 'alias/rotator' },
  projects: [{ projectId: P1, users: ['new', 'held', 'none', 'later'] }],
});

const row = (username: string, fields: Partial<UserReport>): UserReport => ({
  projectId: P1,
  username,
  secretName: `atlas-x509/${P1}/${username}`,
  secretArn: undefined,
  action: 'planned',
  reason: 'would mint: no certificate stored yet',
  serialNumber: undefined,
  notAfter: undefined,
  orphans: [],
  ...fields,
});

const report = (users: UserReport[], error?: RunReport['error']): RunReport => ({
  runId: 'r',
  dryRun: true,
  startedAt: '',
  finishedAt: '',
  summary: summarize(users),
  users,
  ...(error ? { error } : {}),
});

const ROWS = [
  row('new', {}),
  row('held', {
    secretArn: 'arn:aws:secretsmanager:us-east-1:1:secret:x',
    reason: 'would mint: due',
  }),
  row('none', {
    action: 'failed',
    reason: 'would fail: USER_NOT_MANAGED_X509: its x509Type is NONE',
    errorCode: 'USER_NOT_MANAGED_X509',
    remedy: 'Set x509Type MANAGED',
  }),
  row('later', {
    action: 'skipped',
    reason: 'not due; its renewal would fail: CANNOT_GENERATE_CERT_IF_ADVANCED_X509: customer CA',
  }),
];

const statuses = (findings: CheckResult[]) =>
  Object.fromEntries(predict(report(ROWS), config, findings).map((p) => [p.username, p.status]));

describe("doctor's predictions", () => {
  it('take the dry run row by row: a refusal fails, a renewal that would fail later warns', () => {
    const predicted = predict(report(ROWS), config, []);
    expect(predicted.map((p) => [p.username, p.status])).toEqual([
      ['new', 'ok'],
      ['held', 'ok'],
      ['none', 'fail'],
      ['later', 'warn'],
    ]);
    expect(predicted[2]).toMatchObject({
      detail: 'would fail: USER_NOT_MANAGED_X509: its x509Type is NONE',
      errorCode: 'USER_NOT_MANAGED_X509',
      remedy: 'Set x509Type MANAGED',
      configured: true,
    });
  });

  it('fail every due user on a run-wide finding the dry run cannot meet (the lease table)', () => {
    const table: CheckResult = {
      name: 'lease table t',
      status: 'fail',
      detail: 'Lease table t does not exist in us-west-2',
      remedy: 'set AWS_REGION',
      scope: 'run',
      code: 'LEASE_TABLE_MISSING',
    };
    expect(statuses([table])).toEqual({ new: 'fail', held: 'fail', none: 'fail', later: 'warn' });
    expect(predict(report(ROWS), config, [table])[0]).toMatchObject({
      detail: 'would fail: LEASE_TABLE_MISSING: lease table t (see above)',
      errorCode: 'LEASE_TABLE_MISSING',
      remedy: 'set AWS_REGION',
    });
    // A warning is not a failure.
    expect(statuses([{ ...table, status: 'warn' }]).new).toBe('ok');
  });

  it('fail a first mint only on a KMS key that does not resolve: an existing secret keeps its key', () => {
    const key: CheckResult = {
      name: 'KMS key alias/rotator',
      status: 'fail',
      detail: 'does not exist in us-west-2',
      code: 'KMS_ACCESS_DENIED',
    };
    expect(statuses([key])).toMatchObject({ new: 'fail', held: 'ok' });
    expect(statuses([{ ...key, name: 'KMS key alias/other' }]).new).toBe('ok');
  });

  it('name the stop once: the rows point at it, the dry-run line says it unless a check did', () => {
    const stop = {
      code: 'ATLAS_CREDENTIALS_REJECTED' as const,
      message: 'rejected the service account credentials',
      remedy: 'rotate it',
    };
    const stopped = report(
      [row('new', { action: 'failed', reason: STOPPED_REASON, errorCode: stop.code })],
      stop,
    );
    const predicted = predict(stopped, config, []);
    expect(predicted[0]).toMatchObject({
      status: 'fail',
      detail: 'would fail: ATLAS_CREDENTIALS_REJECTED (the run stops: see above)',
      remedy: 'rotate it',
    });
    expect(dryRunFinding(stopped, predicted, []).detail).toContain(
      'stopped: rejected the service account credentials',
    );
    const told: CheckResult = {
      name: 'Atlas credential',
      status: 'fail',
      detail: stop.message,
      code: stop.code,
    };
    const line = dryRunFinding(stopped, predicted, [told]);
    expect(line.detail).not.toContain(stop.message);
    expect(line).toMatchObject({ status: 'fail', code: stop.code });
  });

  it('count discovered users apart from configured ones', () => {
    const found = row('found', {});
    const [, q] = predict(report([row('new', {}), found]), config, []);
    expect(q?.configured).toBe(false);
    expect(
      dryRunFinding(
        report([row('new', {}), found]),
        predict(report([row('new', {}), found]), config, []),
        [],
      ).detail,
    ).toBe('2 users (1 configured, 1 discovered): 2 planned, 0 not due, 0 would fail');
  });
});

describe("doctor's verdict", () => {
  const ok: CheckResult = { name: 'a', status: 'ok', detail: '' };
  const warn: CheckResult = { name: 'w', status: 'warn', detail: '' };
  const fail: CheckResult = { name: 'f', status: 'fail', detail: '' };
  const users = predict(report(ROWS.slice(0, 2)), config, []);
  const failing = predict(report(ROWS), config, []);

  it('is ok only with no failed check and no failing user', () => {
    expect(verdictOf([ok, warn], users)).toEqual({
      verdict: 'ok',
      summary: 'A real run would work (2 users, 1 warning).',
    });
    expect(verdictOf([ok], failing)).toEqual({
      verdict: 'fail',
      summary: '1 of 4 users would fail: a real run would not work.',
    });
    expect(verdictOf([fail, fail], failing)).toEqual({
      verdict: 'fail',
      summary: '2 checks failed: a real run would not work (1 of 4 users would fail).',
    });
    expect(verdictOf([fail], users).verdict).toBe('fail');
  });
});

describe('remedies fit the call', () => {
  it('a RESOURCE_NOT_FOUND names a database user only when the call was about one', () => {
    const notFound = (path: string, groupId?: string) =>
      new AtlasApiError({
        method: 'GET',
        path,
        groupId,
        status: 404,
        errorCode: 'RESOURCE_NOT_FOUND',
        detail: 'Cannot find resource',
      }).remedy;
    expect(notFound('/api/atlas/v2/rateLimits')).not.toMatch(/database user/);
    expect(notFound('/api/atlas/v2/rateLimits')).toMatch(/\/api\/atlas\/v2\/rateLimits/);
    expect(notFound(`/api/atlas/v2/groups/${P1}/databaseUsers/$external/app1/certs`, P1)).toBe(
      `check that the database user exists in project ${P1}`,
    );
  });
});
