import { readFile } from 'node:fs/promises';
import { Token } from 'aws-cdk-lib';
import { ConfigError } from '../functions/domain/config/errors.js';
import { loadConfigFile, readConfigFileSync } from '../functions/domain/config/load.js';
import { parseConfig } from '../functions/domain/config/resolve.js';
import type { RawConfig } from '../functions/domain/config/schema.js';
import type { RotatorConfig } from '../functions/domain/config/types.js';

/**
 * The rotation config at synth time. It is the functions' own schema (`functions/domain/config/schema.ts`),
 * so a config that synthesizes is a config the deployed function accepts, and a bad one fails
 * `cdk synth` with the message the CLI would print.
 */

/**
 * Reads a config file for deployment. Validation (and every error message) is exactly
 * `loadConfigFile`'s; the raw JSON is returned because that is what ships with the function,
 * which applies the defaults itself.
 */
export const readConfigFile = async (path: string): Promise<RawConfig> => {
  await loadConfigFile(path);
  return JSON.parse(await readFile(path, 'utf8')) as RawConfig;
};

/**
 * The config the construct deploys: `config` as given, or the file `configFile` names, read at
 * synth (exactly one of the two). `source` is what errors name: the file, the given
 * `configSource`, or else the construct's path.
 */
export const givenConfig = (
  props: { config?: RawConfig; configFile?: string; configSource?: string },
  path: string,
): { raw: RawConfig; source: string } => {
  if ((props.config === undefined) === (props.configFile === undefined)) {
    throw new ConfigError(
      [
        props.config === undefined
          ? 'no config: pass `configFile` (the path of rotation.config.json) or `config` (its parsed JSON)'
          : 'both `config` and `configFile` given: pass one of them',
      ],
      props.configSource ?? `the props of ${path}`,
    );
  }
  if (props.configFile !== undefined) {
    const source = props.configSource ?? props.configFile;
    try {
      return { raw: readConfigFileSync(props.configFile).raw as RawConfig, source };
    } catch (err) {
      // A given configSource names the file as the adopter knows it.
      if (err instanceof ConfigError && props.configSource)
        throw new ConfigError(err.issues, source);
      throw err;
    }
  }
  return { raw: props.config as RawConfig, source: props.configSource ?? `the config of ${path}` };
};

/**
 * The values the deployment owns and writes into the shipped config. The lease table and the
 * key alias are not among them: the config names those, for the CLI and the functions alike.
 */
export interface OwnedConfigValues {
  /** `atlas.credentialsSecretId`: the rotator's Atlas credential. */
  readonly credentialsSecretId: string;
  /**
   * `atlas.disableCredentialsSecretId`, when the disable operation has its own credential;
   * absent, the key is removed from the shipped config.
   */
  readonly disableCredentialsSecretId?: string | undefined;
}

export interface DeployedConfig {
  /** What ships as `rotation.config.json`: the raw config with the credential ids written in. */
  readonly raw: RawConfig;
  /** The same config as the function will see it, defaults applied. */
  readonly parsed: RotatorConfig;
}

/**
 * Overwrites the owned values and validates the result. The file is written at bundling
 * time, before CloudFormation exists, so every value must be known at synth: a token (a
 * generated ARN, say) cannot ship and is refused here rather than deployed broken.
 */
export const deployedConfig = (
  raw: RawConfig,
  owned: OwnedConfigValues,
  source?: string,
): DeployedConfig => {
  const unresolved = Object.entries(owned)
    .filter(([, value]) => typeof value === 'string' && Token.isUnresolved(value))
    .map(([key]) => key);
  if (unresolved.length > 0) {
    throw new Error(
      `Cannot ship the rotation config: ${unresolved.join(', ')} ${unresolved.length === 1 ? 'is' : 'are'} only known at deploy time. ` +
        'The config file is bundled with the function at synth time; pass values known at synth (a secret imported by name or complete ARN).',
    );
  }
  const { disableCredentialsSecretId: _given, ...atlas } = raw.atlas ?? {};
  const shipped: RawConfig = {
    ...raw,
    atlas: {
      ...atlas,
      credentialsSecretId: owned.credentialsSecretId,
      // Never ship a secret id the roles were not granted: without one of its own, the
      // disable operation falls back to the rotator's credential.
      ...(owned.disableCredentialsSecretId
        ? { disableCredentialsSecretId: owned.disableCredentialsSecretId }
        : {}),
    },
  };
  return { raw: shipped, parsed: parseConfig(shipped, source) };
};

/**
 * The deployment scopes IAM to the certificate secrets' name prefix; an empty prefix would
 * mean every secret in the account.
 */
export const requireSecretNamePrefix = (config: RotatorConfig, source?: string): string => {
  const prefix = config.defaults.secretNamePrefix;
  if (prefix.length === 0) {
    throw new ConfigError(
      [
        'defaults.secretNamePrefix: must not be empty when deployed: the function may only write secrets under it',
      ],
      source,
    );
  }
  return prefix;
};
