import { Annotations, ArnFormat, type Stack, Token } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { ConfigError } from '../functions/domain/config/errors.js';
import { replicaRegionProblems } from '../functions/domain/config/replica-regions.js';
import type { RotatorConfig } from '../functions/domain/config/types.js';
import { type Consumers, consumerPrincipals } from './consumers.js';
import {
  consumersDecryptStatement,
  type ReplicaAccess,
  type ReplicaKey,
  replicaKeyResource,
  usesAwsManagedKey,
} from './permissions.js';

/**
 * Replica Regions at synth time. A single-Region stack can create nothing in another Region:
 * the replicas are created by the function (Secrets Manager replication), each encrypted with
 * the key the config names for its Region (default: that Region's aws/secretsmanager). The
 * stack grants what that needs and hands out the key policy statement consumers need on a
 * customer managed replica key (`replicaKeyPolicyStatement`).
 */

/** The certificate secrets' ARN pattern in `region` (a replica's ARN differs by Region only). */
export const secretsArnPatternIn = (stack: Stack, prefix: string, region: string): string =>
  stack.formatArn({
    service: 'secretsmanager',
    region,
    resource: 'secret',
    resourceName: `${prefix}*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });

const keyOf = (k: ReplicaKey): string => `${k.region}\u0000${k.kmsKeyId ?? ''}`;

/** Every (Region, key) pair the config's users replicate with: the defaults and each listed user. */
export const replicaKeys = (config: RotatorConfig): ReplicaKey[] => {
  const all = [
    ...config.defaults.replicaRegions,
    ...config.projects.flatMap((p) => p.users.flatMap((u) => u.replicaRegions ?? [])),
  ];
  const unique = new Map(all.map((k) => [keyOf(k), { region: k.region, kmsKeyId: k.kmsKeyId }]));
  return [...unique.values()].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
};

/** What the rotate role needs for the config's replicas; undefined without any. */
export const replicaAccess = (
  stack: Stack,
  config: RotatorConfig,
  prefix: string,
): ReplicaAccess | undefined => {
  const keys = replicaKeys(config);
  if (keys.length === 0) return undefined;
  return {
    keys,
    secretsArnPatternIn: (region) => secretsArnPatternIn(stack, prefix, region),
    partition: stack.partition,
    account: stack.account,
  };
};

/** The `key/*` resources (keys named by alias) cdk-nag flags, for their acknowledgement. */
export const aliasKeyResources = (access: ReplicaAccess | undefined): string[] => {
  if (!access) return [];
  const resources = access.keys.flatMap((k) => {
    const target = replicaKeyResource(k, access);
    return target?.alias ? [target.resource] : [];
  });
  return [...new Set(resources)];
};

const accountOf = (arn: string): string | undefined => /^arn:[^:]+:iam::(\d{12}):/.exec(arn)?.[1];

/**
 * Refuses, before anything is created, what the function would refuse or what could never
 * work: a replica Region that is the stack's own, and consumers in another account of a project
 * whose replicas use the AWS managed key, which no other account may use.
 */
export const checkReplicas = (
  stack: Stack,
  config: RotatorConfig,
  consumers: Consumers,
  source?: string,
): void => {
  if (!Token.isUnresolved(stack.region)) {
    const issues = replicaRegionProblems(config, stack.region);
    if (issues.length > 0) throw new ConfigError(issues, source);
  }
  const issues: string[] = [];
  for (const project of config.projects) {
    const readers = (consumers[project.projectId] ?? []).filter((a) => !Token.isUnresolved(a));
    const lists = [
      ...project.users.map((u) => u.replicaRegions ?? []),
      ...(project.discover ? [config.defaults.replicaRegions] : []),
    ];
    const managed = [
      ...new Set(
        lists
          .flat()
          .filter(usesAwsManagedKey)
          .map((k) => k.region),
      ),
    ].sort();
    if (managed.length === 0 || readers.length === 0) continue;
    if (Token.isUnresolved(stack.account)) {
      Annotations.of(stack).addWarningV2(
        'atlas-x509-rotator:replica-key',
        `Replicas of project ${project.projectId} in ${managed.join(', ')} use the AWS managed key aws/secretsmanager: consumers in another account cannot read them. Name a customer managed key in replicaRegions[].kmsKeyId for those.`,
      );
      continue;
    }
    for (const arn of readers.filter((a) => accountOf(a) !== stack.account)) {
      issues.push(
        `consumers.${project.projectId}: ${arn} is in another account, and the replicas in ${managed.join(', ')} use the AWS managed key aws/secretsmanager, which no other account may use; name a customer managed key in replicaRegions[].kmsKeyId and add replicaKeyPolicyStatement(<region>) to its key policy`,
      );
    }
  }
  if (issues.length > 0) throw new ConfigError(issues, source ?? 'the consumers property');
};

/**
 * The key policy statement that lets the consumers decrypt the replicas in `region`, through
 * Secrets Manager there and for the certificate secrets only. Undefined without consumers.
 */
export const replicaReadersStatement = (
  stack: Stack,
  consumers: Consumers,
  prefix: string,
  region: string,
): iam.PolicyStatement | undefined => {
  const principals = consumerPrincipals(consumers);
  if (principals.length === 0) return undefined;
  return consumersDecryptStatement(principals, region, secretsArnPatternIn(stack, prefix, region));
};
