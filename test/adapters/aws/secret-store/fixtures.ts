import type { ValidatedCertificate } from '../../../../functions/domain/certificate.js';
import type { SecretState } from '../../../../functions/domain/stored-value.js';

/** The SDK-mocked tests' secret: app1's, holding one current version, its value not read. */
export const state = (over: Partial<SecretState> = {}): SecretState => ({
  name: 'atlas-x509/p/app1',
  arn: 'arn:aws:secretsmanager:us-east-1:1:secret:atlas-x509/p/app1-AbCdEf',
  createdDate: new Date(0),
  deletedDate: undefined,
  versions: new Map([['v-old', ['AWSCURRENT']]]),
  currentVersionId: 'v-old',
  pendingVersionId: undefined,
  current: undefined,
  notAfterHint: undefined,
  ...over,
});

/** An SDK error as the client throws it: its name is what the adapter maps. */
export const awsError = (name: string) => Object.assign(new Error(name), { name });

/** The user whose secret the SDK-mocked tests write, and a certificate shaped as Atlas mints one. */
export const owner = { projectId: '5e2211c17a3e5a48f5497de3', username: 'app1' };
export const cert: ValidatedCertificate = {
  serialNumber: '1976722359483124370',
  notBefore: new Date('2026-08-10T02:06:35Z'),
  notAfter: new Date('2026-11-10T03:06:35Z'),
  certificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
  privateKey: '-----BEGIN PRIVATE KEY-----\nBBBB\n-----END PRIVATE KEY-----\n',
  pem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nBBBB\n-----END PRIVATE KEY-----\n',
};
