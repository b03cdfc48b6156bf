import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, formatZodIssues } from './config/errors.js';

/**
 * Who may read each project's certificate secrets: `ROTATOR_CONSUMERS`, set by the stack from
 * its `consumers` property, JSON `{"<projectId>": ["<principal ARN>", …]}`. The function keeps a
 * matching resource policy on each of the project's secrets (`rotation/upkeep/drift.ts`).
 */
const consumersSchema = z.record(
  z.string().regex(/^[a-f0-9]{24}$/),
  z.array(
    z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:[\w+=,.@/-]+$/, 'must be an IAM principal ARN'),
  ),
);

export type Consumers = (projectId: string) => readonly string[];

export const consumersFromEnv = (env: NodeJS.ProcessEnv): Consumers => {
  const text = env.ROTATOR_CONSUMERS;
  if (!text) return () => [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(['ROTATOR_CONSUMERS: not valid JSON'], 'the environment');
  }
  const parsed = consumersSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(
      formatZodIssues(parsed.error).map((i) => `ROTATOR_CONSUMERS.${i}`),
      'the environment',
    );
  }
  const map = parsed.data;
  return (projectId) => map[projectId] ?? [];
};

/** The resource policy that lets consumers read a certificate secret, and nothing else. */
export const readerPolicy = (readers: readonly string[]): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AtlasX509CertificateReaders',
        Effect: 'Allow',
        Principal: { AWS: [...new Set(readers)].sort() },
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: '*',
      },
    ],
  });

/** The policy tag's value when the project has no consumers: the secret needs no policy. */
export const NO_POLICY = 'none';

export interface WantedPolicy {
  /** The document, or undefined when the project has no consumers. */
  document: string | undefined;
  /**
   * What the policy tag holds once the document is in place: a short SHA-256 of its canonical
   * form, or `NO_POLICY`. Compared with the tag ListSecrets returns, it tells without a read
   * which secrets a config change left behind.
   */
  hash: string;
}

export const wantedPolicy = (readers: readonly string[]): WantedPolicy => {
  if (readers.length === 0) return { document: undefined, hash: NO_POLICY };
  const document = readerPolicy(readers);
  const hash = createHash('sha256')
    .update(canonicalPolicy(document) ?? document)
    .digest('hex')
    .slice(0, 16);
  return { document, hash };
};

// IAM accepts a single value or a list for these; AWS may hand back either.
const LIST_KEYS = new Set([
  'Statement',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'AWS',
  'Service',
  'Federated',
  'CanonicalUser',
]);

const canonical = (value: unknown, key?: string): unknown => {
  if (Array.isArray(value)) {
    // Order carries no meaning in a policy's lists; duplicates none either.
    const items = value.map((v) => JSON.stringify(canonical(v)));
    return [...new Set(items)].sort().map((text) => JSON.parse(text) as unknown);
  }
  if (key !== undefined && LIST_KEYS.has(key) && value !== null && typeof value !== 'object') {
    return [value];
  }
  if (key === 'Statement' && value !== null && typeof value === 'object') {
    return [canonical(value)];
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => [k, canonical(v, k)]);
    return Object.fromEntries(entries);
  }
  return value;
};

/**
 * A policy document in a form two equivalent documents share: keys sorted, lists sorted and
 * deduplicated, single values as lists (AWS may return a policy reformatted). Undefined when
 * the text is not JSON.
 */
export const canonicalPolicy = (text: string): string | undefined => {
  try {
    return JSON.stringify(canonical(JSON.parse(text) as unknown));
  } catch {
    return undefined;
  }
};

/** Whether the policy a secret holds (undefined: none) is the one wanted. */
export const samePolicy = (actual: string | undefined, wanted: string | undefined): boolean => {
  if (actual === undefined || wanted === undefined) return actual === wanted;
  const a = canonicalPolicy(actual);
  return a !== undefined && a === canonicalPolicy(wanted);
};
