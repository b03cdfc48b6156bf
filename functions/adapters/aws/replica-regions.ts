import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../../domain/config/errors.js';
import { replicaRegionProblems } from '../../domain/config/replica-regions.js';
import type { RotatorConfig } from '../../domain/config/types.js';

/**
 * The one replica check the config cannot make itself: no replica Region may be the Region the
 * secrets live in, which is the Secrets Manager client's. Made before any call, so a bad config
 * changes nothing. A Region that cannot be resolved is left to the run, which stops on it with
 * its own message.
 */
export const checkReplicaRegions = async (
  config: RotatorConfig,
  client: Pick<SecretsManagerClient, 'config'>,
): Promise<void> => {
  const replicated =
    config.defaults.replicaRegions.length > 0 ||
    config.projects.some((p) => p.users.some((u) => (u.replicaRegions ?? []).length > 0));
  if (!replicated) return;
  let region: string;
  try {
    region = await client.config.region();
  } catch {
    return;
  }
  const issues = replicaRegionProblems(config, region);
  if (issues.length > 0)
    throw new ConfigError(issues, `the config (the primary Region is ${region})`);
};
