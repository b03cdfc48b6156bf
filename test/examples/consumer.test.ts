import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectOrdersDatabase } from '../../examples/consumer/x509-mongo-client.js';
import { serializeStored, versionIdFor } from '../../functions/domain/stored-value.js';
import { MongoStandIn } from '../../tools/simulator/mongo-standin.js';
import { Harness, P1 } from '../support/harness.js';

/**
 * The consumer example as an application runs it: the shipped consumer through the real
 * `mongodb` driver against the stand-in cluster node (trusting P1's Atlas CA, knowing `app1`),
 * the secret in moto_server.
 */

let h: Harness;
let node: MongoStandIn;
beforeEach(async () => {
  h = await Harness.start();
  node = await MongoStandIn.start({ clientCa: await h.sim.projectCaPem(P1), users: ['app1'] });
});
afterEach(async () => {
  await node.close();
  await h.close();
});

describe('consumer example: mongodb driver with the rotated certificate', () => {
  it('presents the stored certificate from memory, and the new one after the rotation event', async () => {
    const secretId = h.secretName(P1, 'app1');
    const first = await h.seed(P1, 'app1');
    const lines: string[] = [];
    const db = await connectOrdersDatabase(
      { secretId, uri: node.uri, secrets: new SecretsManagerClient({}), refreshIntervalMs: 0 },
      (line) => lines.push(line),
    );
    try {
      expect(db.consumer.status.serialNumber).toBe(first.serialNumber);
      expect(node.accepted).toEqual([first.serialNumber]);
      expect(db.consumer.client.options).toMatchObject({ tls: true });
      expect(db.consumer.client.options.credentials).toMatchObject({
        mechanism: 'MONGODB-X509',
        source: '$external',
      });
      expect(await db.consumer.refresh()).toMatchObject({ outcome: 'unchanged' });

      // The rotator replaces the certificate and announces it; the event refreshes at once.
      const second = await h.sim.mintCertificate(P1, 'app1');
      await new SecretsManagerClient({}).send(
        new PutSecretValueCommand({
          SecretId: secretId,
          ClientRequestToken: versionIdFor(second.serialNumber),
          SecretString: serializeStored(
            { projectId: P1, username: 'app1' },
            { ...second, pem: second.certificate + second.privateKey },
          ),
        }),
      );
      // Another secret's event changes nothing.
      await db.onRotationEvent({
        'detail-type': 'Atlas X509 Certificate Rotated',
        detail: { secretName: `${secretId}-other` },
      });
      expect(db.consumer.status.serialNumber).toBe(first.serialNumber);
      await db.onRotationEvent({
        'detail-type': 'Atlas X509 Certificate Rotated',
        detail: { secretName: secretId },
      });
      expect(db.consumer.status.serialNumber).toBe(second.serialNumber);
      await db.consumer.client.db('admin').command({ ping: 1 });
      expect(node.accepted).toContain(second.serialNumber);
      expect(lines).toEqual([
        `database certificate ${first.serialNumber} -> ${second.serialNumber}`,
      ]);
    } finally {
      await db.consumer.close();
    }
  });
});
