import { type Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { ConfigError } from '../functions/domain/config/errors.js';
import type { RotatorConfig } from '../functions/domain/config/types.js';

/**
 * The names the CLI and the deployed functions share (#24.1, D1): the config file gives them,
 * the construct builds its resources under them and fills in nothing, so a manual run with the
 * same file takes its leases in the table the schedule uses, and writes with the same key.
 */

/** What an adopter adds when the config names no key alias. */
export const SUGGESTED_KEY_ALIAS = 'alias/atlas-x509-rotator';

// KMS alias names: https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html
const ALIAS = /^alias\/[A-Za-z0-9/_-]{1,250}$/;

/**
 * The certificate key's alias, from `defaults.kmsKeyId`. Deployed, it must be an alias: the
 * construct creates the key under it (a key ARN or id names a key it cannot create, and the
 * CLI would write with another key than the schedule).
 */
export const certificateKeyAliasOf = (config: RotatorConfig, source: string): string => {
  const given = config.defaults.kmsKeyId;
  const fix = `add "kmsKeyId": "${SUGGESTED_KEY_ALIAS}" to "defaults" (any alias/… name of your own)`;
  if (given === undefined) {
    throw new ConfigError(
      [
        `defaults.kmsKeyId: absent; when deployed it names the key alias the construct creates and the CLI uses: ${fix}`,
      ],
      source,
    );
  }
  if (!ALIAS.test(given) || given.startsWith('alias/aws/')) {
    throw new ConfigError(
      [
        `defaults.kmsKeyId: "${given}" is not an alias the construct can create; when deployed it must be alias/<name> (letters, digits, /, _ and -, not alias/aws/…): ${fix}`,
      ],
      source,
    );
  }
  return given;
};

/** The names one rotation claims in its account and Region. */
export interface ClaimedNames {
  readonly tableName: string;
  readonly keyAlias: string;
  readonly secretNamePrefix: string;
  readonly namePrefix: string;
}

const CLAIMS = Symbol.for('atlas-x509-rotator.claimed-names');
type Claim = { path: string; env: string; names: ClaimedNames };
type Root = IConstruct & { [CLAIMS]?: Claim[] };

/** One environment, or every unresolved one (an environment-agnostic stack may deploy anywhere). */
const envOf = (stack: Stack): string =>
  [stack.account, stack.region].map((v) => (Token.isUnresolved(v) ? '*' : v)).join('/');
const sameEnv = (a: string, b: string): boolean => {
  const [aa, ar] = a.split('/');
  const [ba, br] = b.split('/');
  return (aa === '*' || ba === '*' || aa === ba) && (ar === '*' || br === '*' || ar === br);
};

/** Prefixes overlap when one starts with the other: both roles could write the same secrets. */
const clashes = (mine: ClaimedNames, theirs: ClaimedNames): string[] => [
  ...(mine.tableName === theirs.tableName ? [`locks.tableName "${mine.tableName}"`] : []),
  ...(mine.keyAlias === theirs.keyAlias ? [`defaults.kmsKeyId "${mine.keyAlias}"`] : []),
  ...(mine.secretNamePrefix.startsWith(theirs.secretNamePrefix) ||
  theirs.secretNamePrefix.startsWith(mine.secretNamePrefix)
    ? [
        `defaults.secretNamePrefix "${mine.secretNamePrefix}" (overlaps "${theirs.secretNamePrefix}")`,
      ]
    : []),
  ...(mine.namePrefix === theirs.namePrefix ? [`namePrefix "${mine.namePrefix}"`] : []),
];

/**
 * Records what `scope` claims in its app; two rotations that may deploy to one account and
 * Region with the same table, alias, secret prefix or name prefix would share leases or fail
 * at deploy, so synth fails naming both.
 */
export const claimNames = (
  scope: IConstruct,
  stack: Stack,
  names: ClaimedNames,
  source: string,
): void => {
  const root = scope.node.root as Root;
  root[CLAIMS] ??= [];
  const env = envOf(stack);
  for (const other of root[CLAIMS]) {
    if (!sameEnv(env, other.env)) continue;
    const shared = clashes(names, other.names);
    if (shared.length > 0) {
      throw new ConfigError(
        [
          `${shared.join(', ')}: already used by the AtlasX509Rotation at ${other.path}; ${scope.node.path} needs its own (two rotations in one account and Region must not share them)`,
        ],
        source,
      );
    }
  }
  root[CLAIMS].push({ path: scope.node.path, env, names });
};
