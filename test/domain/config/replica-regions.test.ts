import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../functions/domain/config/errors.js';
import { replicaRegionProblems } from '../../../functions/domain/config/replica-regions.js';
import { discoveredUserSettings, parseConfig } from '../../../functions/domain/config/resolve.js';
import type { RawConfig } from '../../../functions/domain/config/schema.js';

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
