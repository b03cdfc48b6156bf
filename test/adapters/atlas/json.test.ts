import { describe, expect, it } from 'vitest';
import { parseJson } from '../../../functions/adapters/atlas/json.js';
import {
  apiErrorSchema,
  databaseUserPageSchema,
  userCertPageSchema,
  userSecuritySchema,
} from '../../../functions/adapters/atlas/schemas.js';
import { loadRecorded } from './helpers.js';

describe('parseJson', () => {
  it('keeps every digit of the recorded serial that JSON.parse corrupts', () => {
    // Prepare
    const { body } = loadRecorded('list-certs.http');

    // Act
    const lossless = parseJson(body) as { results: { _id: unknown }[] };
    const lossy = JSON.parse(body) as { results: { _id: number }[] };

    // Assess
    expect(lossless.results.map((r) => r._id)).toEqual([
      '2558523591213958694',
      '1976722359483124370',
    ]);
    expect(String(lossy.results[1]?._id)).toBe('1976722359483124500');
  });

  it('returns safe numbers as numbers and leaves floats alone', () => {
    expect(parseJson('{"a":42,"b":-7,"c":1.5,"d":9007199254740991,"e":9007199254740993}')).toEqual({
      a: 42,
      b: -7,
      c: 1.5,
      d: 9007199254740991,
      e: '9007199254740993',
    });
  });

  it('throws on text that is not JSON', () => {
    expect(() => parseJson('-----BEGIN CERTIFICATE-----')).toThrow();
  });
});

describe('schemas', () => {
  it('maps the recorded certificate list to serial strings and Dates', () => {
    const page = userCertPageSchema.parse(parseJson(loadRecorded('list-certs.http').body));

    expect(page.totalCount).toBe(2);
    expect(page.results[1]).toEqual({
      serialNumber: '1976722359483124370',
      createdAt: new Date('2026-08-10T02:06:35Z'),
      notAfter: new Date('2026-11-10T03:06:35Z'),
      subject: 'CN=user389',
      groupId: 'b0123456789abcdef012345b',
    });
    // The serial is the certificate's, as in create-cert.http (0x1B6EBA8348904A92).
    expect(
      BigInt(page.results[1]?.serialNumber ?? '0')
        .toString(16)
        .toUpperCase(),
    ).toBe('1B6EBA8348904A92');
  });

  it('tolerates unknown fields and small serials', () => {
    const page = userCertPageSchema.parse({
      results: [
        {
          _id: 12,
          createdAt: '2026-01-01T00:00:00Z',
          notAfter: '2026-04-01T00:00:00.000+00:00',
          subject: 'CN=a',
          groupId: 'g',
          links: [],
          somethingNew: true,
        },
      ],
      newTopLevel: 1,
    });
    expect(page.results[0]?.serialNumber).toBe('12');
    expect(page.results[0]).not.toHaveProperty('somethingNew');
  });

  it('rejects a certificate without a readable date', () => {
    const result = userCertPageSchema.safeParse({
      results: [{ _id: 1, createdAt: 'yesterday', notAfter: 'x', subject: 's', groupId: 'g' }],
    });
    expect(result.success).toBe(false);
  });

  it('defaults x509Type to NONE', () => {
    const page = databaseUserPageSchema.parse({
      results: [
        { username: 'a', databaseName: 'admin', groupId: 'g', roles: [] },
        { username: 'b', databaseName: '$external', groupId: 'g', x509Type: 'MANAGED' },
      ],
    });
    expect(page.results.map((u) => u.x509Type)).toEqual(['NONE', 'MANAGED']);
  });

  it('reads UserSecurity with and without a customer CA', () => {
    expect(
      userSecuritySchema.parse({ customerX509: {}, ldap: { authenticationEnabled: false } }),
    ).toEqual({
      customerX509: {},
      ldap: { authenticationEnabled: false },
    });
    expect(
      userSecuritySchema.parse({ customerX509: { cas: 'PEM', links: [] } }).customerX509,
    ).toEqual({
      cas: 'PEM',
    });
    expect(userSecuritySchema.parse({}).customerX509).toEqual({});
  });

  it('requires errorCode in an ApiError', () => {
    expect(apiErrorSchema.safeParse({ error: 400, detail: 'x' }).success).toBe(false);
    expect(apiErrorSchema.parse({ error: 400, errorCode: 'X', detail: null }).errorCode).toBe('X');
  });
});
