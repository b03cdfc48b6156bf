import type { z } from 'zod';
import type { VerifySettings } from '../verify-uri.js';
import type { rawConfig } from './schema.js';

/** The file as zod returns it, defaults applied: the sections the rotator takes as written. */
type ConfigFile = z.output<typeof rawConfig>;

/** One user's effective settings, after defaults are applied. */
export interface UserSettings {
  projectId: string;
  username: string;
  monthsUntilExpiration: number;
  /** Absent: renew once less than a third of the certificate's lifetime remains. */
  renewBeforeDays: number | undefined;
  secretName: string;
  enabled: boolean;
  kmsKeyId: string | undefined;
  /**
   * Where the secret is replicated; empty or absent: nowhere. A user that inherits the defaults
   * holds the defaults' array itself.
   */
  replicaRegions?: readonly ReplicaRegion[] | undefined;
}

/** A Region a secret is replicated to, and the replica's KMS key there. */
export interface ReplicaRegion {
  region: string;
  /** Absent: that Region's AWS managed key (aws/secretsmanager). */
  kmsKeyId: string | undefined;
}

export interface ProjectSettings {
  projectId: string;
  discover: boolean;
  exclude: ReadonlySet<string>;
  /** Users named in the config, in config order. */
  users: UserSettings[];
  /** Where each new certificate proves it can log in before it becomes current. */
  verify?: VerifySettings | undefined;
}

export interface RotatorConfig {
  atlas: {
    baseUrl: string;
    credentialsSecretId: string | undefined;
    disableCredentialsSecretId: string | undefined;
    organizationId: string | undefined;
  };
  defaults: {
    monthsUntilExpiration: number;
    renewBeforeDays: number | undefined;
    secretNamePrefix: string;
    kmsKeyId: string | undefined;
    replicaRegions: readonly ReplicaRegion[];
  };
  locks: ConfigFile['locks'];
  rotation: ConfigFile['rotation'];
  projects: ProjectSettings[];
}
