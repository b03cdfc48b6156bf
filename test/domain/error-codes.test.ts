import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AtlasApiError,
  AtlasAuthError,
  AtlasCreateOutcomeUnknownError,
  AtlasDeadlineError,
  AtlasResponseError,
  AtlasUnavailableError,
} from '../../functions/adapters/atlas/errors.js';
import { CredentialsError } from '../../functions/adapters/aws/credentials.js';
import { AwsRunWideError, type RunWideCode } from '../../functions/adapters/aws/run-wide.js';
import { CertificateRejectedError } from '../../functions/domain/certificate.js';
import { RefusedError } from '../../functions/domain/customer-x509.js';
import {
  type CatalogCode,
  ERROR_CODES,
  type ErrorCodeEntry,
  isCatalogCode,
} from '../../functions/domain/error-codes.js';
import type { RotatorError } from '../../functions/domain/errors.js';
import { InvalidEventError } from '../../functions/domain/request.js';

const catalog: Readonly<Record<CatalogCode, ErrorCodeEntry>> = ERROR_CODES;
const codes = Object.keys(catalog) as CatalogCode[];
const entry = (code: CatalogCode): ErrorCodeEntry => catalog[code];

const read = (path: string): string =>
  readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/**
 * A code as the docs write it: in backticks, capitals and digits joined by underscores (the
 * one-word `REFUSED` is left out: `AWSPENDING` and its kin look the same).
 */
const CODE_IN_BACKTICKS = /`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`/g;

interface TableRow {
  code: string;
  scope: string;
  from: string;
  remedy: string;
}

/** The rows of the README's table under "#### Error codes". */
const readmeTable = (): TableRow[] => {
  const text = read('README.md');
  const start = text.indexOf('\n#### Error codes\n');
  expect(start, 'README.md has no "#### Error codes" section').toBeGreaterThan(0);
  const section = text.slice(start + 1).split(/\n#{1,4} /)[0] ?? '';
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const [code = '', scope = '', from = '', remedy = ''] = line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim());
      return { code: code.replaceAll('`', ''), scope, from, remedy };
    });
};

const FROM = { rotator: 'rotator', atlas: 'Atlas', both: 'rotator, Atlas' } as const;

describe('the error-code catalog', () => {
  it('gives each code a summary and a remedy', () => {
    for (const code of codes) {
      expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
      expect(entry(code).summary, code).not.toBe('');
      expect(entry(code).remedy, code).not.toBe('');
    }
  });

  describe("README.md's error table", () => {
    const rows = readmeTable();

    it('lists only codes of the catalog, once each, with their scope, source and remedy', () => {
      expect(rows.length).toBeGreaterThan(0);
      const unknown = rows.map((r) => r.code).filter((code) => !isCatalogCode(code));
      expect(unknown, 'codes in the README table but not in the catalog').toEqual([]);
      const seen = rows.map((r) => r.code);
      expect(
        seen.filter((code, i) => seen.indexOf(code) !== i),
        'listed twice',
      ).toEqual([]);
      for (const row of rows) {
        const e = entry(row.code as CatalogCode);
        expect(row, row.code).toEqual({
          code: row.code,
          scope: e.scope,
          from: FROM[e.source ?? 'rotator'],
          remedy: e.remedy,
        });
      }
    });

    it('lists every code that can reach a report row', () => {
      const listed = new Set(rows.map((r) => r.code));
      const missing = codes.filter((code) => entry(code).inReport !== false && !listed.has(code));
      expect(missing, 'catalog codes a row can carry, missing from the README table').toEqual([]);
    });
  });

  it('knows every code docs/runbook.md names', () => {
    const named = [...read('docs/runbook.md').matchAll(CODE_IN_BACKTICKS)].map((m) => m[1] ?? '');
    expect(named.length).toBeGreaterThan(0);
    expect(
      named.filter((code) => !isCatalogCode(code)),
      'codes in the runbook but not in the catalog',
    ).toEqual([]);
  });
});

describe('scopes as raised', () => {
  const call = { method: 'POST', path: '/api/atlas/v2/groups/p/databaseUsers/u/certs' };

  it("the Atlas client's rules give each Atlas code of the catalog its scope", () => {
    const atlasCodes = codes.filter((code) => (entry(code).source ?? 'rotator') !== 'rotator');
    expect(atlasCodes.length).toBeGreaterThan(10);
    for (const code of atlasCodes) {
      const status = code === 'RATE_LIMITED_TOKEN_BUCKET' ? 429 : 400;
      const err = new AtlasApiError({ ...call, status, errorCode: code, detail: '' });
      expect([code, err.scope]).toEqual([code, entry(code).scope]);
    }
  });

  it('an Atlas code the catalog does not list passes through as a user failure', () => {
    const err = new AtlasApiError({ ...call, status: 400, errorCode: 'SOMETHING_NEW', detail: '' });
    expect(isCatalogCode(err.code)).toBe(false);
    expect([err.code, err.scope]).toEqual(['SOMETHING_NEW', 'user']);
  });

  const runWide = (code: RunWideCode) => new AwsRunWideError('m', code, 'r');
  it.each<[string, RotatorError]>([
    ['AtlasUnavailableError', new AtlasUnavailableError(call, 'reset')],
    ['AtlasResponseError', new AtlasResponseError(call, 'not JSON')],
    ['AtlasCreateOutcomeUnknownError', new AtlasCreateOutcomeUnknownError(call, 'timeout')],
    ['AtlasDeadlineError', new AtlasDeadlineError(call, 1_000)],
    ['AtlasAuthError', new AtlasAuthError('m', { kind: 'serviceAccount' })],
    [
      'AtlasAuthError (token endpoint)',
      new AtlasAuthError('m', { kind: 'serviceAccount', code: 'ATLAS_TOKEN_REQUEST_FAILED' }),
    ],
    ['CredentialsError', new CredentialsError('m', 'r')],
    [
      'CredentialsError (organization)',
      new CredentialsError('m', 'r', undefined, 'ATLAS_CREDENTIALS_ORG_MISMATCH'),
    ],
    ['AwsRunWideError', runWide('AWS_REGION_MISSING')],
    ['AwsRunWideError (ListSecrets)', runWide('SECRETS_ACCESS_DENIED')],
    ['CertificateRejectedError', new CertificateRejectedError('wrong key')],
    ['InvalidEventError', new InvalidEventError(['dryRun: not a boolean'])],
    ['RefusedError', new RefusedError('m', 'r')],
  ])('%s carries the scope of its code', (_, err) => {
    const code = err.code as CatalogCode;
    expect(isCatalogCode(code)).toBe(true);
    expect([code, err.scope]).toEqual([code, entry(code).scope]);
  });
});
