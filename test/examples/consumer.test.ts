import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { X509MongoClient } from '../../examples/consumer/x509-mongo-client.js';
import { serializeStored, versionIdFor } from '../../functions/domain/stored-value.js';
import { seedSecret } from '../../tools/aws/seed.js';
import { Harness, P1 } from '../support/harness.js';

/**
 * A TLS endpoint standing in for an Atlas node: it asks for a client certificate and records
 * the serial each connection presents, then hangs up (it speaks no MongoDB protocol).
 */
const tlsPeer = async (h: Harness): Promise<{ server: Server; port: number; seen: string[] }> => {
  const own = await h.sim.mintCertificate(P1, 'localhost');
  const seen: string[] = [];
  const server = createServer(
    { cert: own.certificate, key: own.privateKey, requestCert: true, rejectUnauthorized: false },
    (socket: TLSSocket) => {
      const peer = socket.getPeerCertificate();
      if (peer.serialNumber) seen.push(BigInt(`0x${peer.serialNumber}`).toString(10));
      socket.destroy();
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, seen };
};

let h: Harness;
beforeEach(async () => {
  h = await Harness.start();
});
afterEach(async () => h.close());

describe('consumer example: mongodb driver with the rotated certificate', () => {
  it('presents the stored certificate from memory, and the new one after a rotation', async () => {
    const peer = await tlsPeer(h);
    const secretId = h.secretName(P1, 'app1');
    const first = await h.sim.mintCertificate(P1, 'app1');
    await seedSecret(secretId, { projectId: P1, username: 'app1' }, first);
    const client = new X509MongoClient({
      secrets: new SecretsManagerClient({}),
      secretId,
      uri: `mongodb://127.0.0.1:${peer.port}/?directConnection=true`,
      // The stand-in's own certificate is not a server certificate: skip checking it, here only.
      driverOptions: { tlsAllowInvalidCertificates: true, serverSelectionTimeoutMS: 1500 },
    });
    try {
      await client.start();
      expect(client.serial).toBe(first.serialNumber);
      await expect(client.current.connect()).rejects.toThrow();
      expect(peer.seen).toContain(first.serialNumber);
      expect(client.current.options).toMatchObject({ tls: true });
      expect(client.current.options.credentials).toMatchObject({
        mechanism: 'MONGODB-X509',
        source: '$external',
      });
      expect(await client.refresh()).toBe(false);

      // The rotator replaces the certificate; the next refresh picks it up.
      const second = await h.sim.mintCertificate(P1, 'app1');
      await new SecretsManagerClient({}).send(
        new PutSecretValueCommand({
          SecretId: secretId,
          ClientRequestToken: versionIdFor(second.serialNumber),
          SecretString: serializeStored({ projectId: P1, username: 'app1' }, second),
        }),
      );
      expect(await client.refresh()).toBe(true);
      expect(client.serial).toBe(second.serialNumber);
      await expect(client.current.connect()).rejects.toThrow();
      expect(peer.seen).toContain(second.serialNumber);
    } finally {
      await client.close();
      peer.server.close();
    }
  });
});
