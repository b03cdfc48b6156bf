import { afterEach, describe, expect, it } from 'vitest';
import { AtlasApiError, AtlasResponseError } from '../../../functions/adapters/atlas/errors.js';
import { RotatorError } from '../../../functions/domain/errors.js';
import {
  apiError,
  certsPath,
  clientWith,
  GROUP,
  JSON_HEADERS,
  loadRecorded,
  MEDIA_TYPE,
  mockAtlas,
  rejectionOf,
} from './helpers.js';

/** Answers the Digest handshake so the tests below see the authenticated request. */
const CHALLENGE = {
  ...JSON_HEADERS,
  'www-authenticate':
    'Digest realm="MMS Public API", domain="", nonce="n", algorithm=MD5, qop="auth", stale=false',
};

describe('AtlasClient', () => {
  const { agent, pool } = mockAtlas();
  afterEach(() => agent.assertNoPendingInterceptors());

  /** Every test starts with a fresh client: the first request of each gets challenged. */
  const challengeNext = (path: string, method = 'GET') =>
    pool
      .intercept({ path, method })
      .reply(401, apiError(401, 'UNAUTHORIZED'), { headers: CHALLENGE });

  it('lists the recorded certificates losslessly, with the versioned media type', async () => {
    // Prepare
    const list = loadRecorded('list-certs.http');
    challengeNext(certsPath());
    pool
      .intercept({
        path: certsPath(),
        method: 'GET',
        headers: { accept: MEDIA_TYPE, 'user-agent': /^atlas-x509-rotator\/\d+\.\d+\.\d+/ },
      })
      .reply(list.status, list.body, { headers: list.headers });

    // Act
    const certs = await clientWith(agent).listCertificates(GROUP, 'user389');

    // Assess
    expect(certs.map((c) => c.serialNumber)).toEqual([
      '2558523591213958694',
      '1976722359483124370',
    ]);
    expect(certs[1]).toEqual({
      serialNumber: '1976722359483124370',
      createdAt: new Date('2026-08-10T02:06:35Z'),
      notAfter: new Date('2026-11-10T03:06:35Z'),
      subject: 'CN=user389',
      groupId: GROUP,
    });
  });

  it('returns the recorded create response verbatim, PEM under a JSON content type', async () => {
    const create = loadRecorded('create-cert.http');
    challengeNext(certsPath('user389', ''), 'POST');
    pool
      .intercept({
        path: certsPath('user389', ''),
        method: 'POST',
        headers: { accept: MEDIA_TYPE, 'content-type': MEDIA_TYPE },
        body: '{"monthsUntilExpiration":6}',
      })
      .reply(create.status, create.body, { headers: create.headers });

    const pem = await clientWith(agent).createCertificate(GROUP, 'user389', 6);

    expect(create.headers['content-type']).toBe(`${MEDIA_TYPE};charset=utf-8`);
    expect(pem).toBe(create.body);
    expect(pem.startsWith('-----BEGIN CERTIFICATE-----\nMIIFBzCC')).toBe(true);
  });

  it('reads every page', async () => {
    // Prepare
    const cert = (n: number) => ({
      _id: `${n}`.padStart(19, '1'),
      createdAt: '2026-06-02T13:56:22Z',
      notAfter: '2026-09-02T14:56:22Z',
      subject: 'CN=user389',
      groupId: GROUP,
    });
    const page = (from: number, count: number) =>
      `{"results":[${Array.from({ length: count }, (_, i) => JSON.stringify(cert(from + i)).replace(/"_id":"(\d+)"/, '"_id":$1')).join(',')}],"totalCount":503}`;
    challengeNext(certsPath());
    pool.intercept({ path: certsPath(), method: 'GET' }).reply(200, page(0, 500));
    pool
      .intercept({ path: certsPath('user389', 'itemsPerPage=500&pageNum=2'), method: 'GET' })
      .reply(200, page(500, 3));

    // Act
    const certs = await clientWith(agent).listCertificates(GROUP, 'user389');

    // Assess
    expect(certs).toHaveLength(503);
    expect(certs[502]?.serialNumber).toBe('1111111111111111502');
  });

  it('lists database users over pages and reads their x509Type', async () => {
    const path = `/api/atlas/v2/groups/${GROUP}/databaseUsers?itemsPerPage=500&pageNum=1`;
    challengeNext(path);
    pool.intercept({ path, method: 'GET' }).reply(200, {
      results: [
        {
          username: 'app1',
          databaseName: '$external',
          x509Type: 'MANAGED',
          groupId: GROUP,
          roles: [],
        },
        { username: 'admin', databaseName: 'admin', groupId: GROUP },
      ],
      totalCount: 2,
    });

    const users = await clientWith(agent).listDatabaseUsers(GROUP);

    expect(users).toEqual([
      { username: 'app1', databaseName: '$external', x509Type: 'MANAGED', groupId: GROUP },
      { username: 'admin', databaseName: 'admin', x509Type: 'NONE', groupId: GROUP },
    ]);
  });

  it('encodes usernames in the path', async () => {
    const path = `/api/atlas/v2/groups/${GROUP}/databaseUsers/svc.reporting%2Beu%40corp/certs?itemsPerPage=500&pageNum=1`;
    challengeNext(path);
    pool.intercept({ path, method: 'GET' }).reply(200, { results: [] });

    await expect(
      clientWith(agent).listCertificates(GROUP, 'svc.reporting+eu@corp'),
    ).resolves.toEqual([]);
  });

  it('reads and disables the customer CA', async () => {
    const base = `/api/atlas/v2/groups/${GROUP}/userSecurity`;
    challengeNext(base);
    pool.intercept({ path: base, method: 'GET' }).reply(200, {
      customerX509: { cas: '-----BEGIN CERTIFICATE-----\n...' },
      ldap: { authenticationEnabled: false },
    });
    pool
      .intercept({ path: `${base}/customerX509`, method: 'DELETE' })
      .reply(202, { customerX509: {} });
    const client = clientWith(agent);

    const before = await client.getUserSecurity(GROUP);
    const after = await client.disableCustomerX509(GROUP);

    expect(before.customerX509.cas).toContain('BEGIN CERTIFICATE');
    expect(before.ldap).toEqual({ authenticationEnabled: false });
    expect(after.customerX509).toEqual({});
  });

  it('throws AtlasResponseError naming the call when a list body is not JSON', async () => {
    challengeNext(certsPath());
    pool
      .intercept({ path: certsPath(), method: 'GET' })
      .reply(200, '<html>maintenance</html>', { headers: { 'content-type': 'text/html' } });

    const error = await rejectionOf(clientWith(agent).listCertificates(GROUP, 'user389'));

    expect(error).toBeInstanceOf(AtlasResponseError);
    expect(error).toMatchObject({ code: 'ATLAS_BAD_RESPONSE' });
    expect(error.message).toBe(
      `Atlas GET /api/atlas/v2/groups/${GROUP}/databaseUsers/user389/certs returned an unexpected ` +
        'response: the 200 body is not JSON (text/html, 24 bytes)',
    );
  });

  it('throws AtlasResponseError with the zod path when the schema does not match', async () => {
    challengeNext(certsPath());
    pool
      .intercept({ path: certsPath(), method: 'GET' })
      .reply(200, { results: [{ _id: 1, createdAt: 'soon', notAfter: '2026-01-01T00:00:00Z' }] });

    const error = await rejectionOf(clientWith(agent).listCertificates(GROUP, 'user389'));

    expect(error).toBeInstanceOf(AtlasResponseError);
    expect(error.message).toContain('results.0.createdAt: invalid_format');
    expect(error.message).toContain('results.0.subject: invalid_type');
  });

  it('hands any 2xx create body to the caller as is: Atlas minted, the caller validates', async () => {
    challengeNext(certsPath('user389', ''), 'POST');
    pool.intercept({ path: certsPath('user389', ''), method: 'POST' }).reply(201, '"not pem"');

    expect(await clientWith(agent).createCertificate(GROUP, 'user389', 3)).toBe('"not pem"');
  });

  it('refuses a malformed project id and an out-of-range lifetime before any request', async () => {
    const client = clientWith(agent);
    await expect(client.listCertificates('../admin', 'u')).rejects.toMatchObject({
      code: 'INVALID_PROJECT_ID',
      scope: 'project',
    });
    await expect(client.createCertificate(GROUP, 'u', 25)).rejects.toBeInstanceOf(RotatorError);
    await expect(client.createCertificate(GROUP, 'u', 0)).rejects.toMatchObject({
      code: 'INVALID_CERT_LIFETIME',
    });
    expect(client.stats.requests).toBe(0);
  });

  describe('maps Atlas errors to scope and remedy', () => {
    const cases = [
      [
        400,
        'USER_NOT_MANAGED_X509',
        'user',
        'set x509Type MANAGED, databaseName $external on the user',
      ],
      [400, 'CANNOT_GENERATE_CERT_IF_ADVANCED_X509', 'user', 'customer CA'],
      [400, 'ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED', 'user', 'per-user certificate cap reached'],
      [400, 'CERT_EXPIRY_CANNOT_EXCEED_TWO_YEARS', 'user', '1 to 24 months'],
      [400, 'ATLAS_MANAGED_X509_NAME_INVALID', 'user', 'CN=<username>'],
      [401, 'NOT_IN_GROUP', 'project', `not a member of project ${GROUP}`],
      [401, 'USER_UNAUTHORIZED', 'project', 'Project Owner to create'],
      [403, 'IP_ADDRESS_NOT_ON_ACCESS_LIST', 'project', 'egress IP'],
      [403, 'IP_ADDRESS_NOT_ON_WHITELIST', 'project', 'egress IP'],
      [403, 'RESOURCE_REQUIRES_ACCESS_LIST', 'project', 'API access list'],
      [404, 'GROUP_NOT_FOUND', 'project', 'project id'],
      [404, 'USERNAME_NOT_FOUND', 'user', 'exists'],
      [404, 'USER_NOT_FOUND', 'user', 'exists'],
      [404, 'RESOURCE_NOT_FOUND', 'user', 'exists'],
      [409, 'SOMETHING_NEW', 'user', 'SOMETHING_NEW'],
    ] as const;

    it.each(cases)('%i %s → %s', async (status, errorCode, scope, remedy) => {
      // Prepare
      challengeNext(certsPath('user389', ''), 'POST');
      pool
        .intercept({ path: certsPath('user389', ''), method: 'POST' })
        .reply(status, apiError(status, errorCode, 'Atlas says no.'), { headers: JSON_HEADERS });
      const client = clientWith(agent);

      // Act
      const error = await rejectionOf(client.createCertificate(GROUP, 'user389', 3));

      // Assess
      expect(error).toBeInstanceOf(AtlasApiError);
      expect(error).toMatchObject({
        name: 'AtlasApiError',
        status,
        errorCode,
        code: errorCode,
        scope,
      });
      expect((error as AtlasApiError).remedy).toContain(remedy);
      expect(error.message).toBe(
        `Atlas POST /api/atlas/v2/groups/${GROUP}/databaseUsers/user389/certs failed: ` +
          `${status} ${errorCode}: Atlas says no.`,
      );
      expect(client.stats.requests).toBe(2); // challenge + one POST: no retry
    });

    it('names the caller IP of ORG_REQUIRES_ACCESS_LIST', async () => {
      challengeNext(certsPath());
      pool
        .intercept({ path: certsPath(), method: 'GET' })
        .reply(
          403,
          { ...apiError(403, 'ORG_REQUIRES_ACCESS_LIST'), parameters: ['203.0.113.7'] },
          { headers: JSON_HEADERS },
        );

      const error = await rejectionOf(clientWith(agent).listCertificates(GROUP, 'user389'));

      expect(error).toMatchObject({ scope: 'project' });
      expect((error as AtlasApiError).remedy).toContain('(203.0.113.7)');
    });

    it('falls back to a generic error when the error body is not JSON', async () => {
      challengeNext(certsPath());
      pool
        .intercept({ path: certsPath(), method: 'GET' })
        .reply(418, 'I am a teapot', { headers: { 'content-type': 'text/plain' } });

      const error = await rejectionOf(clientWith(agent).listCertificates(GROUP, 'user389'));

      expect(error).toMatchObject({ status: 418, errorCode: 'HTTP_418', scope: 'user' });
      expect(error.message).not.toContain('teapot');
    });
  });
});
