import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { RotatorError } from './errors.js';
import { type VerifySettings, verifyUri } from './verify-uri.js';

/**
 * The one schema of the rotation config file. The functions read it at run time and `infra/`
 * validates it at synth time, so a bad config fails the same way everywhere, before any call.
 */

const DAYS_PER_MONTH_AT_LEAST = 28;
const MAX_SECRET_NAME_LENGTH = 512;

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
const editDistance = (a: string, b: string): number => {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const substitute = at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1);
      const swapped = i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1];
      row[j] = Math.min(
        at(i - 1, j) + 1,
        at(i, j - 1) + 1,
        substitute,
        swapped ? at(i - 2, j - 2) + 1 : Number.POSITIVE_INFINITY,
      );
    }
  }
  return at(a.length, b.length);
};

/**
 * The known key a typo most likely meant: case aside, at most 2 edits away, or a quarter of
 * the length for long keys (`monthsUntilExpiry` still finds `monthsUntilExpiration`).
 */
export const closestKey = (key: string, known: readonly string[]): string | undefined => {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    const allowed = Math.max(2, Math.floor(Math.max(key.length, name.length) / 4));
    if (distance <= allowed && (best === undefined || distance < best.distance)) {
      best = { name, distance };
    }
  }
  return best?.name;
};

const quoted = (names: readonly string[]): string => names.map((n) => `"${n}"`).join(', ');

/** Zod's wording, plus the fix: the key meant, or the keys allowed at this level. */
const unknownKeysMessage = (keys: readonly string[], known: readonly string[]): string => {
  const near = keys.map((key) => closestKey(key, known));
  const named = keys.map((key, i) =>
    near[i] === undefined ? `"${key}"` : `"${key}" (did you mean "${near[i]}"?)`,
  );
  const label = keys.length === 1 ? 'Unrecognized key' : 'Unrecognized keys';
  const allowed = near.includes(undefined) ? `; allowed here: ${quoted(known)}` : '';
  return `${label}: ${named.join(', ')}${allowed}`;
};

/** Every config object refuses unknown keys: a typo must not silently fall back to a default. */
const strict = <Shape extends z.ZodRawShape>(shape: Shape) =>
  z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? unknownKeysMessage(issue.keys, Object.keys(shape))
        : undefined,
  });

const projectId = z
  .string()
  .regex(/^[a-f0-9]{24}$/, 'must be a 24-character lowercase hexadecimal Atlas project id')
  .describe('24-hex Atlas project (group) id.');

// Atlas usernames for X.509 users become `CN=<username>`; keep them printable and bounded.
const username = z
  .string()
  .min(1, 'must not be empty')
  .max(1024)
  .regex(/^[^\s/\\]+$/, 'must not contain whitespace, "/" or "\\"')
  .describe('Atlas database username (no whitespace, "/" or "\\").');

const months = z
  .number()
  .int('must be a whole number of months')
  .min(1, 'must be at least 1')
  .max(24, 'must be at most 24 (the Atlas maximum)');

const renewBeforeDays = z
  .number()
  .int('must be a whole number of days')
  .min(1, 'must be at least 1');

const MONTHS_TEXT = 'Validity of new certificates in months, 1-24 (the Atlas maximum).';
const RENEW_TEXT =
  'Renew this many days before expiry; absent: when a third of the lifetime remains. Must be shorter than 28 days x monthsUntilExpiration.';

// Secrets Manager names hold letters, digits and /_+=.@- only.
const secretNamePart = z
  .string()
  .min(1)
  .max(MAX_SECRET_NAME_LENGTH)
  .regex(/^[A-Za-z0-9/_+=.@-]+$/, 'may only contain letters, digits and /_+=.@-');

// A Region code as AWS spells them (eu-west-1, us-gov-west-1, ap-southeast-5).
const awsRegion = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be an AWS Region code such as eu-west-1');

const replicaRegionsSchema = z
  .array(
    z.union([
      awsRegion,
      strict({
        region: awsRegion,
        kmsKeyId: z
          .string()
          .min(1)
          .max(2048)
          .optional()
          .describe(
            "KMS key of the replica, in that Region (key id, key ARN, alias or alias ARN); default: that Region's AWS managed key aws/secretsmanager.",
          ),
      }),
    ]),
  )
  // The Regions are recorded in one tag value (256 characters).
  .max(10, 'must list at most 10 Regions');

const REPLICAS_TEXT =
  'Regions each secret is replicated to (Secrets Manager multi-Region secrets): a Region code, or {region, kmsKeyId}. Not the primary Region, no Region twice.';

const userObject = strict({
  username,
  monthsUntilExpiration: months.optional().describe(`${MONTHS_TEXT} Default: the one in defaults.`),
  renewBeforeDays: renewBeforeDays
    .optional()
    .describe(`${RENEW_TEXT} Default: the one in defaults.`),
  secretName: secretNamePart
    .optional()
    .describe('Secret name under defaults.secretNamePrefix; default: <projectId>/<username>.'),
  replicaRegions: replicaRegionsSchema
    .optional()
    .describe(`${REPLICAS_TEXT} Default: the ones in defaults; [] for none.`),
  enabled: z
    .boolean()
    .default(true)
    .describe('false pauses rotation for this user; it is still reported.'),
});

const project = strict({
  projectId,
  users: z
    .array(z.union([username, userObject]))
    .default([])
    .describe('Users to rotate: a username, or an object with per-user overrides.'),
  discover: z
    .boolean()
    .default(false)
    .describe('Rotate every database user of the project whose x509Type is MANAGED.'),
  exclude: z
    .array(username)
    .default([])
    .describe('Usernames that discovery skips; a listed user must not be excluded.'),
  verify: strict({ uri: verifyUri })
    .optional()
    .describe(
      "Prove each new certificate can log in (MONGODB-X509, then ping) before it becomes AWSCURRENT; absent: no login check. The rotator's network must reach the cluster.",
    ),
});

/** Hosts whose traffic never leaves the machine: the only ones plain http may reach. */
const isLoopback = (hostname: string): boolean =>
  hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);

const nonEmpty = z.string().min(1);

/** Exported for the JSON Schema generator and its test; parse with `parseConfig`. */
export const rawConfig = strict({
  $schema: z.string().optional().describe('The JSON Schema of this file, for editors; ignored.'),
  atlas: strict({
    baseUrl: z
      .url({ protocol: /^https?$/ })
      .default('https://cloud.mongodb.com')
      .refine(
        // zod runs refinements after a failed format check too: leave that one its own issue.
        (url) =>
          !URL.canParse(url) || url.startsWith('https:') || isLoopback(new URL(url).hostname),
        'must use https (plain http is allowed only for loopback simulators: localhost, 127.0.0.0/8, [::1]); the client secret would travel in clear text',
      )
      .transform((url) => url.replace(/\/+$/, ''))
      // The refinement has no JSON Schema form: say it, the rotator checks it on load.
      .describe(
        'Atlas Admin API origin: https only (plain http only to loopback: localhost, 127.0.0.0/8, [::1]); a path prefix is kept.',
      ),
    credentialsSecretId: nonEmpty
      .optional()
      .describe('Secrets Manager secret holding the Atlas credential.'),
    disableCredentialsSecretId: nonEmpty
      .optional()
      .describe(
        'Project Owner credential for the disable operation; default: credentialsSecretId.',
      ),
    organizationId: z
      .string()
      .regex(/^[a-f0-9]{24}$/, 'must be a 24-character lowercase hexadecimal organization id')
      .optional()
      .describe(
        'With a service account: each run reads when its secret expires (needs the org id).',
      ),
  })
    .default({ baseUrl: 'https://cloud.mongodb.com' })
    .describe('Where and as whom to call Atlas.'),
  defaults: strict({
    monthsUntilExpiration: months.default(3).describe(MONTHS_TEXT),
    renewBeforeDays: renewBeforeDays.optional().describe(RENEW_TEXT),
    secretNamePrefix: z
      .string()
      .max(256)
      .regex(/^[A-Za-z0-9/_+=.@-]*$/, 'may only contain letters, digits and /_+=.@-')
      .default('atlas-x509/')
      .describe('Every secret lives under it, so IAM can be scoped to it.'),
    kmsKeyId: nonEmpty
      .optional()
      .describe('KMS key for new secrets; default: the AWS managed key.'),
    replicaRegions: replicaRegionsSchema.default([]).describe(REPLICAS_TEXT),
  })
    .default({ monthsUntilExpiration: 3, secretNamePrefix: 'atlas-x509/', replicaRegions: [] })
    .describe('Settings for every user unless the user overrides them.'),
  locks: strict({
    tableName: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a valid DynamoDB table name')
      .default('atlas-x509-rotator-locks')
      .describe('DynamoDB lease table.'),
    // A create and its store need 90 s of lease left, and the lease keeps a 30 s margin.
    leaseSeconds: z
      .number()
      .int()
      .min(180)
      .max(3600)
      .default(900)
      .describe("How long a crashed run's lease blocks a user."),
  })
    .default({ tableName: 'atlas-x509-rotator-locks', leaseSeconds: 900 })
    .describe('Per-user leases, so two runs never rotate one user at once.'),
  rotation: strict({
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(128)
      .default(64)
      .describe("Most users in flight; a run starts lower and paces itself by Atlas's headers."),
    orphanLimit: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(2)
      .describe('Refuse to mint for a user with this many orphans minted in the window.'),
    orphanWindowDays: z
      .number()
      .int()
      .min(1)
      .max(90)
      .default(7)
      .describe('The window, in days, of orphanLimit and maxMintsPerWindow.'),
    // An outage costs more than a few more capped certificates.
    criticalDays: z
      .number()
      .int()
      .min(1)
      .max(60)
      .default(7)
      .describe(
        'A user with no certificate or one expiring within this many days is minted once per run even past orphanLimit, up to maxMintsPerWindow.',
      ),
    // Atlas caps certificates per user: a fault that rejects every certificate must not burn
    // through that cap one run at a time.
    maxMintsPerWindow: z
      .number()
      .int()
      .min(1)
      .max(50)
      .default(4)
      .describe(
        'Certificates created for one user within orphanWindowDays, held or not, beyond which nothing more is minted, critical or not.',
      ),
    catchUpRuns: z
      .number()
      .int()
      .min(0)
      .max(96)
      .default(24)
      .describe(
        'Catch-up runs in a row after a run that left users deferred (the catch-up schedule runs them); 0 turns them off.',
      ),
  })
    .default({
      concurrency: 64,
      orphanLimit: 2,
      orphanWindowDays: 7,
      criticalDays: 7,
      maxMintsPerWindow: 4,
      catchUpRuns: 24,
    })
    .describe('Pacing and the limits that keep a fault from minting without end.'),
  projects: z
    .array(project)
    .min(1, 'must name at least one project')
    .describe('Atlas projects and the users to rotate in each.'),
});

export type RawConfig = z.input<typeof rawConfig>;

/** The `$id` of the config's JSON Schema: a name, not a location, so any copy of it fits. */
export const CONFIG_SCHEMA_ID = 'urn:atlas-x509-rotator:rotation-config';

/**
 * The JSON Schema of the config file as written (`io: 'input'`: fields with defaults are
 * optional), draft-07 because editors handle it best. Zod drops refinements and transforms
 * from it, so the description names the checks only the rotator makes. Anything else zod cannot
 * represent throws (its default), so a new field cannot slip out of the schema unnoticed.
 */
export const configJsonSchema = (): Record<string, unknown> => {
  const { $schema, ...body } = z.toJSONSchema(rawConfig, { io: 'input', target: 'draft-07' });
  return {
    $schema,
    $id: CONFIG_SCHEMA_ID,
    title: 'atlas-x509-rotator rotation config',
    description:
      'Generated from functions/domain/config.ts by scripts/config-schema.ts: do not edit. ' +
      'The rotator also checks, when it loads the file: atlas.baseUrl uses https (http only to loopback); ' +
      'renewBeforeDays is shorter than 28 days x monthsUntilExpiration; no project, user in a project ' +
      'or secret name appears twice; every secret name, prefix included, fits in 512 characters; ' +
      'each project lists users or sets discover; no user is both listed and excluded; ' +
      'no replica Region appears twice in one list, none is the primary Region, and a replica key given as an ARN is in its Region; ' +
      "a project's verify.uri is a mongodb+srv:// or mongodb:// connection string without credentials or options that weaken TLS.",
    ...body,
  };
};
type UserEntry = z.infer<typeof userObject>;

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
  locks: { tableName: string; leaseSeconds: number };
  rotation: {
    concurrency: number;
    orphanLimit: number;
    orphanWindowDays: number;
    criticalDays: number;
    maxMintsPerWindow: number;
    catchUpRuns: number;
  };
  projects: ProjectSettings[];
}

/** Raised for any config problem; `issues` name the offending paths. */
export class ConfigError extends RotatorError {
  readonly issues: string[];

  constructor(issues: string[], source?: string) {
    const where = source ? ` in ${source}` : '';
    super(`Invalid rotation config${where}:\n${issues.map((i) => `  - ${i}`).join('\n')}`, {
      code: 'INVALID_CONFIG',
      remedy: 'Fix the listed fields; nothing was called or changed.',
      scope: 'run',
    });
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Renders a zod path like `projects[0].users[1].renewBeforeDays`. */
export const formatPath = (path: readonly PropertyKey[]): string =>
  path
    .map((part, i) =>
      typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`,
    )
    .join('') || '(root)';

type Issue = z.core.$ZodIssue;

/**
 * One line per problem, `path: message`. For a union (a user is a name or an object), report
 * the branch that got furthest instead of zod's bare "Invalid input".
 */
export const formatZodIssues = (error: { issues: readonly Issue[] }): string[] => {
  const lines = (issues: readonly Issue[], prefix: readonly PropertyKey[]): string[] =>
    issues.flatMap((issue) => {
      const path = [...prefix, ...issue.path];
      if (issue.code === 'invalid_union' && issue.errors.length > 0) {
        const depth = (branch: readonly Issue[]) => Math.max(...branch.map((i) => i.path.length));
        const best = [...issue.errors].sort((a, b) => depth(b) - depth(a))[0] ?? [];
        if (depth(best) > 0) return lines(best, path);
      }
      return [`${formatPath(path)}: ${issue.message}`];
    });
  return lines(error.issues, []);
};

/**
 * Replaces characters a secret name cannot hold with `-`, so any Atlas username maps to a
 * valid name under the prefix.
 */
export const sanitizeSecretName = (name: string): string =>
  name.replace(/[^A-Za-z0-9/_+=.@-]/g, '-');

/** Where a user's certificate is stored: `<prefix><projectId>/<username>` unless named. */
export const secretNameFor = (
  prefix: string,
  projectIdValue: string,
  usernameValue: string,
  secretName?: string,
): string => sanitizeSecretName(`${prefix}${secretName ?? `${projectIdValue}/${usernameValue}`}`);

/** The shortest lifetime, in days, that `months` calendar months can mean. */
export const shortestLifetimeDays = (monthsValue: number): number =>
  DAYS_PER_MONTH_AT_LEAST * monthsValue;

/** Effective settings for a user found by discovery (config defaults, no overrides). */
export const discoveredUserSettings = (
  config: RotatorConfig,
  projectIdValue: string,
  usernameValue: string,
): UserSettings => ({
  projectId: projectIdValue,
  username: usernameValue,
  monthsUntilExpiration: config.defaults.monthsUntilExpiration,
  renewBeforeDays: config.defaults.renewBeforeDays,
  secretName: secretNameFor(config.defaults.secretNamePrefix, projectIdValue, usernameValue),
  enabled: true,
  kmsKeyId: config.defaults.kmsKeyId,
  replicaRegions: config.defaults.replicaRegions,
});

/**
 * Checks that a renewal window cannot swallow a whole certificate lifetime: otherwise every
 * run would mint. Returns the problem, or undefined.
 */
export const renewWindowProblem = (
  renewBeforeDaysValue: number | undefined,
  monthsValue: number,
): string | undefined => {
  if (renewBeforeDaysValue === undefined) return undefined;
  const shortest = shortestLifetimeDays(monthsValue);
  return renewBeforeDaysValue < shortest
    ? undefined
    : `must be shorter than ${shortest} days, the shortest lifetime ${monthsValue} month(s) can mean (28 days a month), or every run would mint`;
};

type ReplicaEntry = z.infer<typeof replicaRegionsSchema>[number];

/** The Region a KMS key ARN or alias ARN names; undefined for a key id or an alias name. */
const keyArnRegion = (keyId: string): string | undefined =>
  /^arn:[^:]+:kms:([^:]+):/.exec(keyId)?.[1];

/** A config list of replica Regions, normalised; its problems go to `issues`, named by `path`. */
const replicaRegionsOf = (
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

/** Validates parsed JSON and resolves defaults. Throws ConfigError naming every problem. */
export const parseConfig = (input: unknown, source?: string): RotatorConfig => {
  const parsed = rawConfig.safeParse(input);
  if (!parsed.success) throw new ConfigError(formatZodIssues(parsed.error), source);
  const raw = parsed.data;
  const issues: string[] = [];
  const defaults = raw.defaults;

  const defaultsProblem = renewWindowProblem(
    defaults.renewBeforeDays,
    defaults.monthsUntilExpiration,
  );
  if (defaultsProblem) issues.push(`defaults.renewBeforeDays: ${defaultsProblem}`);
  const defaultReplicas = replicaRegionsOf(
    defaults.replicaRegions,
    'defaults.replicaRegions',
    issues,
  );

  const seenProjects = new Map<string, number>();
  const secretOwners = new Map<string, string>();
  const projects: ProjectSettings[] = raw.projects.map((p, pi) => {
    const previous = seenProjects.get(p.projectId);
    if (previous !== undefined) {
      issues.push(
        `projects[${pi}].projectId: ${p.projectId} is already configured at projects[${previous}]`,
      );
    }
    seenProjects.set(p.projectId, pi);
    if (p.users.length === 0 && !p.discover) {
      issues.push(`projects[${pi}]: names no users and does not set "discover": true`);
    }

    const seenUsers = new Map<string, number>();
    const users = p.users.map((entry, ui): UserSettings => {
      const u: UserEntry = typeof entry === 'string' ? { username: entry, enabled: true } : entry;
      const path = `projects[${pi}].users[${ui}]`;
      const before = seenUsers.get(u.username);
      if (before !== undefined) {
        issues.push(
          `${path}: user "${u.username}" is already listed at projects[${pi}].users[${before}]`,
        );
      }
      seenUsers.set(u.username, ui);
      const settings: UserSettings = {
        projectId: p.projectId,
        username: u.username,
        monthsUntilExpiration: u.monthsUntilExpiration ?? defaults.monthsUntilExpiration,
        renewBeforeDays: u.renewBeforeDays ?? defaults.renewBeforeDays,
        secretName: secretNameFor(defaults.secretNamePrefix, p.projectId, u.username, u.secretName),
        enabled: u.enabled,
        kmsKeyId: defaults.kmsKeyId,
        replicaRegions: u.replicaRegions
          ? replicaRegionsOf(u.replicaRegions, `${path}.replicaRegions`, issues)
          : defaultReplicas,
      };
      const windowProblem = renewWindowProblem(
        settings.renewBeforeDays,
        settings.monthsUntilExpiration,
      );
      if (windowProblem && u.renewBeforeDays !== undefined) {
        issues.push(`${path}.renewBeforeDays: ${windowProblem}`);
      } else if (windowProblem && !defaultsProblem) {
        issues.push(
          `${path}.monthsUntilExpiration: with defaults.renewBeforeDays, ${windowProblem}`,
        );
      }
      if (settings.secretName.length > MAX_SECRET_NAME_LENGTH) {
        issues.push(`${path}: secret name is longer than ${MAX_SECRET_NAME_LENGTH} characters`);
      }
      const owner = secretOwners.get(settings.secretName);
      if (owner) {
        issues.push(`${path}: secret name "${settings.secretName}" is already used by ${owner}`);
      }
      secretOwners.set(settings.secretName, `${p.projectId}:${u.username}`);
      if (p.exclude.includes(u.username)) {
        issues.push(`${path}: user "${u.username}" is both listed and excluded`);
      }
      return settings;
    });

    const settings: ProjectSettings = {
      projectId: p.projectId,
      discover: p.discover,
      exclude: new Set(p.exclude),
      users,
    };
    if (p.verify) settings.verify = { uri: p.verify.uri };
    return settings;
  });

  if (issues.length > 0) throw new ConfigError(issues, source);

  return {
    atlas: {
      baseUrl: raw.atlas.baseUrl,
      credentialsSecretId: raw.atlas.credentialsSecretId,
      disableCredentialsSecretId: raw.atlas.disableCredentialsSecretId,
      organizationId: raw.atlas.organizationId,
    },
    defaults: {
      monthsUntilExpiration: defaults.monthsUntilExpiration,
      renewBeforeDays: defaults.renewBeforeDays,
      secretNamePrefix: defaults.secretNamePrefix,
      kmsKeyId: defaults.kmsKeyId,
      replicaRegions: defaultReplicas,
    },
    locks: raw.locks,
    rotation: raw.rotation,
    projects,
  };
};

/** Reads and validates a config file. Every failure is a ConfigError naming the file. */
export const loadConfigFile = async (path: string): Promise<RotatorConfig> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? err}`],
      path,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`not valid JSON: ${(err as Error).message}`], path);
  }
  return parseConfig(json, path);
};
