/**
 * How an application consumes the rotated certificate: read the secret, connect with the
 * official `mongodb` driver using MONGODB-X509, keep the certificate and key in memory (nothing
 * is written to disk), and pick up a new certificate when the rotator replaces it. The old
 * certificate stays valid in Atlas until it expires, so re-reading periodically is enough;
 * `refresh()` can also be called on the `Atlas X509 Certificate Rotated` event.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { MongoClient, type MongoClientOptions } from 'mongodb';

/** The fields of the rotator's secret that a client needs. */
export interface StoredCertificate {
  certificate: string;
  privateKey: string;
  serialNumber: string;
  notAfter: string;
}

export const readCertificate = async (
  secrets: SecretsManagerClient,
  secretId: string,
): Promise<StoredCertificate> => {
  const got = await secrets.send(
    new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }),
  );
  const value = JSON.parse(got.SecretString ?? '{}') as Partial<StoredCertificate>;
  if (!value.certificate || !value.privateKey || !value.serialNumber || !value.notAfter) {
    throw new Error(`secret ${secretId} does not hold an Atlas X.509 certificate`);
  }
  return value as StoredCertificate;
};

export interface X509MongoClientOptions {
  secrets: SecretsManagerClient;
  secretId: string;
  /** e.g. `mongodb+srv://cluster0.example.mongodb.net/` */
  uri: string;
  /** How often to look for a new certificate. @default 1 hour */
  refreshMs?: number;
  /** Extra driver options (timeouts, a private CA, …). */
  driverOptions?: MongoClientOptions;
}

export class X509MongoClient {
  private client: MongoClient | undefined;
  private serialNumber: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: X509MongoClientOptions) {}

  /** The client for the current certificate (call `refresh()` or `start()` first). */
  get current(): MongoClient {
    if (!this.client) throw new Error('call refresh() or start() first');
    return this.client;
  }

  /** The serial of the certificate in use. */
  get serial(): string | undefined {
    return this.serialNumber;
  }

  /** Reads the secret; on a new serial, swaps in a client for it. Resolves to whether it swapped. */
  async refresh(): Promise<boolean> {
    const cert = await readCertificate(this.options.secrets, this.options.secretId);
    if (cert.serialNumber === this.serialNumber) return false;
    const previous = this.client;
    this.client = new MongoClient(this.options.uri, {
      ...this.options.driverOptions,
      tls: true,
      // In memory: the driver hands these straight to Node's TLS stack.
      cert: cert.certificate,
      key: cert.privateKey,
      authMechanism: 'MONGODB-X509',
      authSource: '$external',
    });
    this.serialNumber = cert.serialNumber;
    // Operations already running on the old client finish; it is still a valid certificate.
    await previous?.close();
    return true;
  }

  /** Reads the certificate now and then every `refreshMs`. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch((err: unknown) => console.error('certificate refresh failed', err));
    }, this.options.refreshMs ?? 3_600_000);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.client?.close();
  }
}
