import { Stack, Token } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { ConfigError } from '../functions/domain/config/errors.js';
import { consumersFromEnv } from '../functions/domain/consumers.js';
import { consumersDecryptStatement } from './permissions.js';

/** Consumers of the certificate secrets: Atlas project id → IAM principal ARNs that may read them. */
export type Consumers = Readonly<Record<string, readonly string[]>>;

const SOURCE = 'the consumers property';

/**
 * Refuses consumers of projects the config does not rotate, and principal ARNs the function
 * would refuse: it validates ROTATOR_CONSUMERS with this very code.
 */
export const checkConsumers = (consumers: Consumers, projectIds: readonly string[]): void => {
  const problems = Object.keys(consumers)
    .filter((projectId) => !projectIds.includes(projectId))
    .map((projectId) => `consumers.${projectId}: not a project of the rotation config`);
  if (problems.length > 0) throw new ConfigError(problems, SOURCE);
  try {
    const known = Object.fromEntries(
      Object.entries(consumers).map(([p, arns]) => [
        p,
        // Tokens (a role of this app, say) resolve at deploy; the shape is checked anyway.
        Array.isArray(arns) ? arns.filter((a) => !Token.isUnresolved(a)) : arns,
      ]),
    );
    consumersFromEnv({ ROTATOR_CONSUMERS: JSON.stringify(known) });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(
      err.issues.map((i) => i.replace(/^ROTATOR_CONSUMERS\./, 'consumers.')),
      SOURCE,
    );
  }
};

/** Every consumer principal once, in first-seen order. */
export const consumerPrincipals = (consumers: Consumers): string[] => [
  ...new Set(Object.values(consumers).flat()),
];

/**
 * Lets the consumers decrypt through the key's policy and returns the rotate function's
 * ROTATOR_CONSUMERS environment (the function grants them each secret), or nothing without
 * consumers.
 */
export const allowConsumers = (
  key: kms.Key,
  consumers: Consumers,
  certificateSecretsArnPattern: string,
): Record<string, string> | undefined => {
  const principals = consumerPrincipals(consumers);
  if (principals.length === 0) return undefined;
  const stack = Stack.of(key);
  key.addToResourcePolicy(
    consumersDecryptStatement(principals, stack.region, certificateSecretsArnPattern),
  );
  return { ROTATOR_CONSUMERS: stack.toJsonString(consumers) };
};
