import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  discoveredUserSettings,
  parseConfig,
  type RawConfig,
  replicaRegionProblems,
} from '../../functions/domain/config.js';
import {
  parseReplicaTag,
  replicaArn,
  replicaArns,
  replicaTagValue,
  versionMark,
} from '../../functions/domain/replicas.js';

const P1 = '5e2211c17a3e5a48f5497de3';

const issuesOf = (config: unknown): string[] => {
  try {
    parseConfig(config);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
};

const withReplicas = (defaults: unknown, user?: unknown): RawConfig =>
  ({
    defaults: { replicaRegions: defaults },
    projects: [
      { projectId: P1, users: ['app1', ...(user === undefined ? [] : [user])], discover: true },
    ],
  }) as RawConfig;

describe('config: replicaRegions', () => {
  it('defaults to none, for listed and discovered users', () => {
    const config = parseConfig({ projects: [{ projectId: P1, users: ['app1'] }] });
    expect(config.defaults.replicaRegions).toEqual([]);
    expect(config.projects[0]?.users[0]?.replicaRegions).toEqual([]);
    expect(discoveredUserSettings(config, P1, 'found').replicaRegions).toEqual([]);
  });

  it('normalises plain Regions and {region, kmsKeyId}, users inheriting or overriding', () => {
    const config = parseConfig(
      withReplicas(['eu-west-1', { region: 'us-west-2', kmsKeyId: 'alias/certs' }], {
        username: 'batch',
        replicaRegions: [],
      }),
    );
    const wanted = [
      { region: 'eu-west-1', kmsKeyId: undefined },
      { region: 'us-west-2', kmsKeyId: 'alias/certs' },
    ];
    expect(config.defaults.replicaRegions).toEqual(wanted);
    const [app1, batch] = config.projects[0]?.users ?? [];
    expect(app1?.replicaRegions).toBe(config.defaults.replicaRegions);
    expect(batch?.replicaRegions).toEqual([]);
    expect(discoveredUserSettings(config, P1, 'found').replicaRegions).toEqual(wanted);
  });

  it('refuses a Region listed twice, naming both places', () => {
    expect(issuesOf(withReplicas(['eu-west-1', { region: 'eu-west-1' }]))).toEqual([
      'defaults.replicaRegions[1]: eu-west-1 is already listed at defaults.replicaRegions[0]',
    ]);
    expect(
      issuesOf(withReplicas([], { username: 'b', replicaRegions: ['ap-south-1', 'ap-south-1'] })),
    ).toEqual([
      'projects[0].users[1].replicaRegions[1]: ap-south-1 is already listed at projects[0].users[1].replicaRegions[0]',
    ]);
  });

  it('refuses what is not a Region, a key ARN of another Region, and more than 10', () => {
    expect(issuesOf(withReplicas(['Europe']))).toEqual([
      'defaults.replicaRegions[0]: must be an AWS Region code such as eu-west-1',
    ]);
    const key = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(issuesOf(withReplicas([{ region: 'eu-west-1', kmsKeyId: key }]))).toEqual([
      "defaults.replicaRegions[0].kmsKeyId: the key is in us-east-1; a replica's key must be in the replica's Region, eu-west-1",
    ]);
    const many = Array.from({ length: 11 }, (_, i) => `eu-west-${i + 1}`);
    expect(issuesOf(withReplicas(many))).toEqual([
      'defaults.replicaRegions: must list at most 10 Regions',
    ]);
    expect(issuesOf(withReplicas([{ region: 'eu-west-1', kmsKeyID: 'x' }]))[0]).toContain(
      '"kmsKeyID" (did you mean "kmsKeyId"?)',
    );
  });

  it('names every list that holds the primary Region, a user inheriting it once', () => {
    const config = parseConfig(
      withReplicas(['us-east-1', 'eu-west-1'], { username: 'b', replicaRegions: ['us-east-1'] }),
    );
    expect(replicaRegionProblems(config, 'us-east-1')).toEqual([
      'defaults.replicaRegions[0]: us-east-1 is the primary Region (where the rotator runs and the secrets live); list only other Regions',
      'projects[0].users[1].replicaRegions[0]: us-east-1 is the primary Region (where the rotator runs and the secrets live); list only other Regions',
    ]);
    expect(replicaRegionProblems(config, 'ap-south-1')).toEqual([]);
  });
});

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
