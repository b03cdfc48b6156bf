import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { RotatorError } from './errors.js';

/**
 * The one schema of the rotation config file. The functions read it at run time and `infra/`
 * validates it at synth time, so a bad config fails the same way everywhere, before any call.
 */

const DAYS_PER_MONTH_AT_LEAST = 28;
const MAX_SECRET_NAME_LENGTH = 512;

const projectId = z
  .string()
  .regex(/^[a-f0-9]{24}$/, 'must be a 24-character lowercase hexadecimal Atlas project id');

// Atlas usernames for X.509 users become `CN=<username>`; keep them printable and bounded.
const username = z
  .string()
  .min(1, 'must not be empty')
  .max(1024)
  .regex(/^[^\s/\\]+$/, 'must not contain whitespace, "/" or "\\"');

const months = z
  .number()
  .int('must be a whole number of months')
  .min(1, 'must be at least 1')
  .max(24, 'must be at most 24 (the Atlas maximum)');

const renewBeforeDays = z
  .number()
  .int('must be a whole number of days')
  .min(1, 'must be at least 1');

// Secrets Manager names hold letters, digits and /_+=.@- only.
const secretNamePart = z
  .string()
  .min(1)
  .max(MAX_SECRET_NAME_LENGTH)
  .regex(/^[A-Za-z0-9/_+=.@-]+$/, 'may only contain letters, digits and /_+=.@-');

const userObject = z.strictObject({
  username,
  monthsUntilExpiration: months.optional(),
  renewBeforeDays: renewBeforeDays.optional(),
  secretName: secretNamePart.optional(),
  /** `false` pauses rotation for this user; it is still reported. */
  enabled: z.boolean().default(true),
});

const project = z.strictObject({
  projectId,
  users: z.array(z.union([username, userObject])).default([]),
  /** Rotate every database user of the project whose `x509Type` is `MANAGED`. */
  discover: z.boolean().default(false),
  exclude: z.array(username).default([]),
});

/** Hosts whose traffic never leaves the machine: the only ones plain http may reach. */
const isLoopback = (hostname: string): boolean =>
  hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);

const rawConfig = z.strictObject({
  atlas: z
    .strictObject({
      baseUrl: z
        .url({ protocol: /^https?$/ })
        .default('https://cloud.mongodb.com')
        .refine(
          (url) => url.startsWith('https:') || isLoopback(new URL(url).hostname),
          'must use https (plain http is allowed only for loopback simulators: localhost, 127.0.0.0/8, [::1]); the client secret would travel in clear text',
        )
        .transform((url) => url.replace(/\/+$/, '')),
      credentialsSecretId: z.string().min(1).optional(),
      /** Project Owner credential for the disable operation; falls back to the one above. */
      disableCredentialsSecretId: z.string().min(1).optional(),
      /** With a service account: read its secret's expiry each run (needs the org id). */
      organizationId: z
        .string()
        .regex(/^[a-f0-9]{24}$/, 'must be a 24-character lowercase hexadecimal organization id')
        .optional(),
    })
    .default({ baseUrl: 'https://cloud.mongodb.com' }),
  defaults: z
    .strictObject({
      monthsUntilExpiration: months.default(3),
      renewBeforeDays: renewBeforeDays.optional(),
      secretNamePrefix: z
        .string()
        .max(256)
        .regex(/^[A-Za-z0-9/_+=.@-]*$/, 'may only contain letters, digits and /_+=.@-')
        .default('atlas-x509/'),
      kmsKeyId: z.string().min(1).optional(),
    })
    .default({ monthsUntilExpiration: 3, secretNamePrefix: 'atlas-x509/' }),
  locks: z
    .strictObject({
      tableName: z
        .string()
        .regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a valid DynamoDB table name')
        .default('atlas-x509-rotator-locks'),
      // A create and its store need 90 s of lease left, and the lease keeps a 30 s margin.
      leaseSeconds: z.number().int().min(180).max(3600).default(900),
    })
    .default({ tableName: 'atlas-x509-rotator-locks', leaseSeconds: 900 }),
  rotation: z
    .strictObject({
      /** Most users in flight; the run starts lower and paces itself by Atlas's headers. */
      concurrency: z.number().int().min(1).max(128).default(64),
      /** Refuse to mint for a user that already has this many recent orphans. */
      orphanLimit: z.number().int().min(1).max(20).default(2),
      orphanWindowDays: z.number().int().min(1).max(90).default(7),
      /**
       * A certificate this close to expiry (or none at all) is minted on every run even past
       * the orphan limit: an outage costs more than a few more capped certificates.
       */
      criticalDays: z.number().int().min(1).max(60).default(7),
      /**
       * Certificates created for one user within `orphanWindowDays`, held or not, beyond which
       * nothing more is minted, critical or not: Atlas caps certificates per user and a fault
       * that rejects every certificate must not burn through that cap one run at a time.
       */
      maxMintsPerWindow: z.number().int().min(1).max(50).default(4),
    })
    .default({
      concurrency: 64,
      orphanLimit: 2,
      orphanWindowDays: 7,
      criticalDays: 7,
      maxMintsPerWindow: 4,
    }),
  projects: z.array(project).min(1, 'must name at least one project'),
});

export type RawConfig = z.input<typeof rawConfig>;
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
}

export interface ProjectSettings {
  projectId: string;
  discover: boolean;
  exclude: ReadonlySet<string>;
  /** Users named in the config, in config order. */
  users: UserSettings[];
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
  };
  locks: { tableName: string; leaseSeconds: number };
  rotation: {
    concurrency: number;
    orphanLimit: number;
    orphanWindowDays: number;
    criticalDays: number;
    maxMintsPerWindow: number;
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

    return { projectId: p.projectId, discover: p.discover, exclude: new Set(p.exclude), users };
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
