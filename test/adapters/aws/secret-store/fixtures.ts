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
