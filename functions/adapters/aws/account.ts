import { DescribeKeyCommand, KMSClient, NotFoundException } from '@aws-sdk/client-kms';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

/**
 * Where the AWS calls of a process land: the Region its clients resolved, the account its
 * credentials belong to (STS GetCallerIdentity, which needs no permission), and whether a KMS
 * key id or alias resolves there. Read by `doctor` only: a run needs neither STS nor KMS calls.
 */

// Bounded like every other client (clients.ts): doctor must answer in seconds.
const requestHandler = {
  connectionTimeout: 3_000,
  requestTimeout: 5_000,
  throwOnRequestTimeout: true,
};
const sts = new STSClient({ maxAttempts: 2, requestHandler });
const kms = new KMSClient({ maxAttempts: 2, requestHandler });

/** The Region the SDK resolved (AWS_REGION or the profile's), or undefined without one. */
export const resolvedRegion = async (): Promise<string | undefined> => {
  try {
    return await sts.config.region();
  } catch {
    return undefined;
  }
};

/** The account and caller ARN of the credentials in use (not secret: no key, no token). */
export const callerIdentity = async (): Promise<{ account: string; arn: string | undefined }> => {
  const answer = await sts.send(new GetCallerIdentityCommand({}));
  return { account: answer.Account ?? '(unknown)', arn: answer.Arn };
};

export type KeyLookup =
  | { found: true; keyArn: string | undefined; state: string | undefined }
  | { found: false };

/** Whether `keyId` (id, ARN, alias name or alias ARN) names a key in the Region in use. */
export const lookUpKey = async (keyId: string): Promise<KeyLookup> => {
  try {
    const { KeyMetadata: key } = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    return { found: true, keyArn: key?.Arn, state: key?.KeyState };
  } catch (err) {
    if (err instanceof NotFoundException) return { found: false };
    throw err;
  }
};
