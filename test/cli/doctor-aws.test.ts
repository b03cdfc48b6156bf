import { DescribeKeyCommand, KMSClient, NotFoundException } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { configuredKeys, keyCheck } from '../../functions/cli/doctor/aws.js';
import { parseConfig } from '../../functions/domain/config/resolve.js';

/** doctor's KMS key line for the answers moto does not give on demand (a refusal, a disabled key). */

const kms = mockClient(KMSClient);
afterEach(() => kms.reset());
const WHERE = { region: 'us-west-2', account: '123456789012', endpoints: [] };
const ALIAS = 'alias/rotator';

describe("doctor's KMS key check", () => {
  it('lists the key new secrets are created with, once', () => {
    const config = parseConfig({
      defaults: { kmsKeyId: ALIAS },
      projects: [
        {
          projectId: '5e2211c17a3e5a48f5497de3',
          users: ['a', 'b'],
        },
      ],
    });
    expect(configuredKeys(config)).toEqual([ALIAS]);
    expect(
      configuredKeys(
        parseConfig({ projects: [{ projectId: '5e2211c17a3e5a48f5497de3', users: ['a'] }] }),
      ),
    ).toEqual([]);
  });

  it('fails a key that is not there, naming the Region and account looked in', async () => {
    kms.on(DescribeKeyCommand).rejects(new NotFoundException({ message: 'no', $metadata: {} }));
    expect(await keyCheck(ALIAS, WHERE)).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('does not exist in us-west-2 (account 123456789012)'),
      remedy: expect.stringContaining('set AWS_REGION'),
      code: 'KMS_ACCESS_DENIED',
    });
  });

  it('fails a disabled key, passes an enabled one', async () => {
    const arn = 'arn:aws:kms:us-west-2:123456789012:key/1';
    kms
      .on(DescribeKeyCommand)
      .resolves({ KeyMetadata: { KeyId: '1', Arn: arn, KeyState: 'Disabled' } });
    expect(await keyCheck(ALIAS, WHERE)).toMatchObject({
      status: 'fail',
      detail: `${arn} is Disabled: Secrets Manager cannot encrypt with it`,
    });
    kms
      .on(DescribeKeyCommand)
      .resolves({ KeyMetadata: { KeyId: '1', Arn: arn, KeyState: 'Enabled' } });
    expect(await keyCheck(ALIAS, WHERE)).toMatchObject({
      status: 'ok',
      detail: `resolves to ${arn} (Enabled)`,
    });
  });

  it('only warns when doctor may not look (the run itself needs no kms:DescribeKey)', async () => {
    const denied = Object.assign(new Error('not authorized to perform kms:DescribeKey'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400, requestId: 'r' },
    });
    kms.on(DescribeKeyCommand).rejects(denied);
    expect(await keyCheck(ALIAS, WHERE)).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('cannot tell whether it exists in us-west-2'),
      remedy: expect.stringContaining('kms:DescribeKey'),
    });
  });
});
