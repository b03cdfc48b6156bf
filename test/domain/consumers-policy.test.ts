import { describe, expect, it } from 'vitest';
import {
  canonicalPolicy,
  NO_POLICY,
  readerPolicy,
  samePolicy,
  wantedPolicy,
} from '../../functions/domain/consumers.js';
import { auditDue, auditSlot } from '../../functions/domain/rotation/upkeep/drift.js';

const A = 'arn:aws:iam::111122223333:role/app1-reader';
const B = 'arn:aws:iam::444455556666:role/batch-reader';

describe('consumers: the wanted resource policy', () => {
  it('lets the readers get and describe the secret, and nothing else', () => {
    expect(JSON.parse(readerPolicy([B, A, B]))).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AtlasX509CertificateReaders',
          Effect: 'Allow',
          Principal: { AWS: [A, B] },
          Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          Resource: '*',
        },
      ],
    });
  });

  it('hashes it short and stable, whatever the readers’ order; no readers: no policy', () => {
    const { hash } = wantedPolicy([A, B]);
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    expect(wantedPolicy([B, A, A]).hash).toBe(hash);
    expect(wantedPolicy([A]).hash).not.toBe(hash);
    expect(wantedPolicy([])).toEqual({ document: undefined, hash: NO_POLICY });
  });
});

describe('consumers: comparing policies as AWS may return them', () => {
  const wanted = readerPolicy([A, B]);

  it.each([
    ['keys reordered, whitespace', JSON.stringify(JSON.parse(wanted), null, 2)],
    [
      'one statement as an object, lists reordered',
      JSON.stringify({
        Statement: {
          Resource: ['*'],
          Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
          Principal: { AWS: [B, A] },
          Effect: 'Allow',
          Sid: 'AtlasX509CertificateReaders',
        },
        Version: '2012-10-17',
      }),
    ],
  ])('equal: %s', (_what, actual) => {
    expect(samePolicy(actual, wanted)).toBe(true);
  });

  it('single values and one-element lists are the same', () => {
    expect(samePolicy(readerPolicy([A]).replace(`["${A}"]`, `"${A}"`), readerPolicy([A]))).toBe(
      true,
    );
  });

  it.each([
    ['a principal missing', readerPolicy([A])],
    ['a principal added', readerPolicy([A, B, 'arn:aws:iam::999999999999:role/x'])],
    // IAM shows a deleted-and-recreated role by its unique id: put the ARN again.
    ['a principal shown by its unique id', readerPolicy([A, 'AROAEXAMPLEID12345678'])],
    ['another action', wanted.replace('DescribeSecret', 'PutSecretValue')],
    ['not JSON', '{"Version": '],
    ['no policy', undefined],
  ])('different: %s', (_what, actual) => {
    expect(samePolicy(actual, wanted)).toBe(false);
  });

  it('no policy wanted and none held is the same', () => {
    expect(samePolicy(undefined, undefined)).toBe(true);
    expect(canonicalPolicy('not json')).toBeUndefined();
  });
});

describe('reconcile: the audit day', () => {
  it('gives every secret one day in the period, stable, spread over the days', () => {
    const names = Array.from({ length: 700 }, (_, i) => `atlas-x509/p/user-${i}`);
    const slots = names.map((n) => auditSlot(n, 7));
    expect(names.map((n) => auditSlot(n, 7))).toEqual(slots);
    const perSlot = Array.from({ length: 7 }, (_, d) => slots.filter((s) => s === d).length);
    // 100 a day on average: no day far off it.
    for (const count of perSlot) expect(count).toBeGreaterThan(70);
    for (const count of perSlot) expect(count).toBeLessThan(130);
  });

  it('is due on exactly one of any seven consecutive days; a period of 1 is every day', () => {
    const start = Date.parse('2026-09-01T06:00:00Z');
    const days = Array.from({ length: 7 }, (_, d) => new Date(start + d * 86_400_000));
    for (const name of ['a', 'atlas-x509/p/app1', 'reporting/x509']) {
      expect(days.filter((day) => auditDue(name, day, 7))).toHaveLength(1);
      expect(days.every((day) => auditDue(name, day, 1))).toBe(true);
    }
  });
});
