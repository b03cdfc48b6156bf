import { ConfigError, formatZodIssues } from './errors.js';
import { renewWindowProblem } from './lifetime.js';
import { replicaRegionsOf } from './replica-regions.js';
import { rawConfig, type UserEntry } from './schema.js';
import { MAX_SECRET_NAME_LENGTH, secretNameFor } from './secret-name.js';
import type { ProjectSettings, RotatorConfig, UserSettings } from './types.js';

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
