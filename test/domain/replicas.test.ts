import { describe, expect, it } from 'vitest';
import {
  parseReplicaTag,
  replicaArn,
  replicaArns,
  replicaTagValue,
  versionMark,
} from '../../functions/domain/replicas.js';

describe('replicas tag and ARNs', () => {
  const ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:atlas-x509/p/app1-AbCdEf';

  it('round-trips Regions (sorted) and the verified version, ignoring junk', () => {
    const verified = versionMark('0b8f8d6e-4f53-5c1e-9f0e-5d8b1f6e7a10');
    expect(verified).toBe('0b8f8d6e4f53');
    const value = replicaTagValue({ regions: ['us-west-2', 'eu-west-1'], verified });
    expect(value).toBe('eu-west-1 us-west-2 @0b8f8d6e4f53');
    expect(parseReplicaTag(value)).toEqual({ regions: ['eu-west-1', 'us-west-2'], verified });
    expect(parseReplicaTag('eu-west-1 nonsense @xyz')).toEqual({
      regions: ['eu-west-1'],
      verified: undefined,
    });
    expect(parseReplicaTag(undefined)).toBeUndefined();
    // Ten of the longest Region codes and a mark still fit in a tag value.
    const longest = Array.from({ length: 10 }, (_, i) => `ap-southeast-${i + 10}`);
    expect(replicaTagValue({ regions: longest, verified }).length).toBeLessThanOrEqual(256);
  });

  it('derives replica ARNs by swapping the Region', () => {
    expect(replicaArn(ARN, 'eu-west-1')).toBe(
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:atlas-x509/p/app1-AbCdEf',
    );
    expect(replicaArns(ARN, ['us-west-2', 'eu-west-1'])).toEqual([
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:atlas-x509/p/app1-AbCdEf',
      'arn:aws:secretsmanager:us-west-2:111122223333:secret:atlas-x509/p/app1-AbCdEf',
    ]);
    expect(replicaArn('atlas-x509/p/app1', 'eu-west-1')).toBeUndefined();
  });
});
