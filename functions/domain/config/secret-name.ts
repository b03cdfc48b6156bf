/** Secrets Manager's longest secret name. */
export const MAX_SECRET_NAME_LENGTH = 512;

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
