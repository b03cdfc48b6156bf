import type { ReplicaEntry } from './schema.js';
import type { ReplicaRegion, RotatorConfig } from './types.js';

/** The Region a KMS key ARN or alias ARN names; undefined for a key id or an alias name. */
const keyArnRegion = (keyId: string): string | undefined =>
  /^arn:[^:]+:kms:([^:]+):/.exec(keyId)?.[1];

/** A config list of replica Regions, normalised; its problems go to `issues`, named by `path`. */
export const replicaRegionsOf = (
  entries: readonly ReplicaEntry[],
  path: string,
  issues: string[],
): ReplicaRegion[] => {
  const seen = new Map<string, number>();
  return entries.map((entry, i) => {
    const replica: ReplicaRegion =
      typeof entry === 'string'
        ? { region: entry, kmsKeyId: undefined }
        : { region: entry.region, kmsKeyId: entry.kmsKeyId };
    const at = `${path}[${i}]`;
    const before = seen.get(replica.region);
    if (before !== undefined) {
      issues.push(`${at}: ${replica.region} is already listed at ${path}[${before}]`);
    }
    seen.set(replica.region, i);
    const keyRegion = replica.kmsKeyId ? keyArnRegion(replica.kmsKeyId) : undefined;
    if (keyRegion && keyRegion !== replica.region) {
      issues.push(
        `${at}.kmsKeyId: the key is in ${keyRegion}; a replica's key must be in the replica's Region, ${replica.region}`,
      );
    }
    return replica;
  });
};

/**
 * The replica Regions that name the primary Region itself, which only the caller knows (the
 * function's Region at run time, the stack's at synth). A user that inherits the defaults is
 * not named again.
 */
export const replicaRegionProblems = (config: RotatorConfig, primaryRegion: string): string[] => {
  const named = (list: readonly ReplicaRegion[], path: string): string[] =>
    list.flatMap((r, i) =>
      r.region === primaryRegion
        ? [
            `${path}[${i}]: ${r.region} is the primary Region (where the rotator runs and the secrets live); list only other Regions`,
          ]
        : [],
    );
  return [
    ...named(config.defaults.replicaRegions, 'defaults.replicaRegions'),
    ...config.projects.flatMap((p, pi) =>
      p.users.flatMap((u, ui) =>
        u.replicaRegions === config.defaults.replicaRegions
          ? []
          : named(u.replicaRegions ?? [], `projects[${pi}].users[${ui}].replicaRegions`),
      ),
    ),
  ];
};
