import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtlasClient } from '../../functions/adapters/atlas/client.js';
import { AtlasSimulator } from '../../tools/simulator/atlas-simulator.js';
import { generateRsaKeyPair } from '../../tools/simulator/pki.js';
import { contractMonitor, newerVersionNotes } from './monitor.js';

const GROUP = '5e2211c17a3e5a48f5497de3';
const ORG = '4888442a3354817a7320eb61';
const CLIENT = {
  clientId: 'mdb_sa_id_0123456789abcdef01234567',
  clientSecret: 'mdb_sa_sk_contract',
};
const API_KEY = { publicKey: 'contractpub', privateKey: 'contract-private-key' };
const CUSTOMER_CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

let sim: AtlasSimulator;

beforeAll(async () => {
  sim = await AtlasSimulator.start({ keys: [await generateRsaKeyPair(2048)] });
  sim.addServiceAccount(CLIENT.clientId, CLIENT.clientSecret);
  sim.addApiKey(API_KEY.publicKey, API_KEY.privateKey);
  sim.addProject(GROUP, { customerCaPem: CUSTOMER_CA });
  sim.addUser(GROUP, 'app-user');
});

afterAll(async () => sim.close());

describe('every operation the Atlas client calls, against the contract', () => {
  it('is checked once each (setup.ts fails the test on a violation), with both credentials', async () => {
    const monitor = contractMonitor();
    const before = monitor.counts.requests;
    const atlas = new AtlasClient({
      baseUrl: sim.baseUrl,
      credentials: { kind: 'serviceAccount', ...CLIENT, orgId: ORG },
    });
    await atlas.listCertificates(GROUP, 'app-user');
    await atlas.listDatabaseUsers(GROUP);
    await atlas.getUserSecurity(GROUP);
    await atlas.disableCustomerX509(GROUP);
    await atlas.createCertificate(GROUP, 'app-user', 3);
    await atlas.getServiceAccount(ORG, CLIENT.clientId);
    await atlas.getCertificateRateLimit(GROUP);
    const digest = new AtlasClient({
      baseUrl: sim.baseUrl,
      credentials: {
        kind: 'apiKey',
        publicApiKey: API_KEY.publicKey,
        privateApiKey: API_KEY.privateKey,
      },
    });
    await digest.listCertificates(GROUP, 'app-user');
    // Seven operations, a token, and a Digest challenge before the API key's call.
    expect(monitor.counts.requests - before).toBeGreaterThanOrEqual(10);
    expect([...monitor.versionsAsked.keys()]).toEqual(
      expect.arrayContaining([
        'GET /api/atlas/v2/groups/{groupId}/databaseUsers/{username}/certs',
        'POST /api/atlas/v2/groups/{groupId}/databaseUsers/{username}/certs',
        'GET /api/atlas/v2/groups/{groupId}/databaseUsers',
        'GET /api/atlas/v2/groups/{groupId}/userSecurity',
        'DELETE /api/atlas/v2/groups/{groupId}/userSecurity/customerX509',
        'GET /api/atlas/v2/orgs/{orgId}/serviceAccounts/{clientId}',
        'GET /api/atlas/v2/rateLimits',
      ]),
    );
  });

  it('says (does not fail) when the spec offers a newer version date than the client asks', () => {
    const monitor = contractMonitor();
    const notes = newerVersionNotes(monitor.contract, monitor.versionsAsked);
    console.log(
      notes.length === 0
        ? 'Atlas API versions: the client asks the newest date the vendored spec has for every operation it calls.'
        : `Atlas API versions: newer dates in the vendored spec (a decision, not a failure):\n  ${notes.join('\n  ')}`,
    );
    // The note itself, on an ask older than the spec's newest.
    const older = new Map([['GET /api/atlas/v2/rateLimits', new Set(['2024-01-01'])]]);
    expect(newerVersionNotes(monitor.contract, older)).toEqual([
      'GET /api/atlas/v2/rateLimits (listRateLimits): the client asks 2024-01-01; the spec also has 2025-03-12',
    ]);
  });
});
