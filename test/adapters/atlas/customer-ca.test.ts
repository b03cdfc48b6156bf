import { afterEach, describe, expect, it } from 'vitest';
import { AtlasApiError } from '../../../functions/adapters/atlas/errors.js';
import { apiError, bearerClient, GROUP, mockAtlas } from './helpers.js';

const PATH = `/api/atlas/v2/groups/${GROUP}/userSecurity`;

describe('AtlasClient.customerCaConfigured', () => {
  const { agent, pool } = mockAtlas();
  afterEach(() => agent.assertNoPendingInterceptors());

  it.each([
    [
      { customerX509: { cas: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' } },
      true,
    ],
    [{ customerX509: {}, ldap: { authenticationEnabled: false } }, false],
    [{ customerX509: { cas: null } }, false],
    [{ customerX509: { cas: '  ' } }, false],
    [{}, false],
  ])('reads %j as %s', async (body, configured) => {
    const client = bearerClient(agent);
    pool.intercept({ path: PATH, method: 'GET' }).reply(200, body);
    await expect(client.customerCaConfigured(GROUP)).resolves.toBe(configured);
  });

  // The endpoint needs Project Owner; the daily credential may well hold less.
  it.each([
    [401, 'USER_UNAUTHORIZED'],
    [403, 'ORG_REQUIRES_ACCESS_LIST'],
  ])('is unknown (undefined) when Atlas answers %i %s', async (status, code) => {
    const client = bearerClient(agent);
    pool.intercept({ path: PATH, method: 'GET' }).reply(status, apiError(status, code));
    await expect(client.customerCaConfigured(GROUP)).resolves.toBeUndefined();
  });

  it('throws any other failure, as Atlas named it', async () => {
    const client = bearerClient(agent);
    pool.intercept({ path: PATH, method: 'GET' }).reply(404, apiError(404, 'GROUP_NOT_FOUND'));
    const err = await client.customerCaConfigured(GROUP).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AtlasApiError);
    expect(err).toMatchObject({ code: 'GROUP_NOT_FOUND', scope: 'project' });
  });
});
