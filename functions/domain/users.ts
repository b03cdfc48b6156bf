import { discoveredUserSettings } from './config/resolve.js';
import type { ProjectSettings, RotatorConfig, UserSettings } from './config/types.js';
import type { Log } from './log.js';
import type { AtlasPort } from './rotation/ports.js';
import { keyOf, type UserRef } from './rotation/request.js';

/**
 * The usernames an earlier discovery of the project found, as far as the store shows: the
 * secrets under `<prefix><projectId>/` (where discovered users' certificates go), not deleted.
 * No new state: the run reads the store's index anyway.
 */
export const storedUsernames = (
  prefix: string,
  projectId: string,
  names: Iterable<{ name: string; deletedDate: Date | undefined }>,
): string[] => {
  const under = `${prefix}${projectId}/`;
  const found: string[] = [];
  for (const { name, deletedDate } of names) {
    const username = name.startsWith(under) ? name.slice(under.length) : '';
    if (username && !username.includes('/') && deletedDate === undefined) found.push(username);
  }
  return found.sort();
};

/**
 * The users a run covers, in config order: listed users, plus discovered MANAGED users of
 * projects with `discover`, minus `exclude`; restricted to `only` when given. A project whose
 * discovery fails is reported through `onProjectError` and keeps its listed users and those an
 * earlier discovery found (`previouslyFound`), so each still has its row, failed with the cause.
 */
export const resolveUsers = async (
  ctx: { config: RotatorConfig; atlas: Pick<AtlasPort, 'listDatabaseUsers'>; log: Log },
  only: readonly UserRef[] | undefined,
  onProjectError: (projectId: string, err: unknown) => void,
  previouslyFound: (projectId: string) => Promise<readonly string[]> = async () => [],
): Promise<UserSettings[]> => {
  const wanted = (project: ProjectSettings, username?: string): boolean =>
    !only ||
    only.some(
      (o) =>
        o.projectId === project.projectId && (username === undefined || o.username === username),
    );

  const perProject = await Promise.all(
    ctx.config.projects
      .filter((p) => wanted(p))
      .map(async (project) => {
        const users = project.users.filter((u) => wanted(project, u.username));
        if (!project.discover) return users;
        const named = new Set(project.users.map((u) => u.username));
        // With `only`, discover only when it names someone the config does not list.
        if (
          only &&
          !only.some((o) => o.projectId === project.projectId && !named.has(o.username))
        ) {
          return users;
        }
        const discoveredOf = (found: readonly string[]) =>
          found
            .filter(
              (username) =>
                !named.has(username) && !project.exclude.has(username) && wanted(project, username),
            )
            .map((username) => discoveredUserSettings(ctx.config, project.projectId, username));
        try {
          const found = await ctx.atlas.listDatabaseUsers(project.projectId);
          const discovered = discoveredOf(
            found
              .filter((u) => u.x509Type === 'MANAGED' && u.databaseName === '$external')
              .map((u) => u.username),
          );
          ctx.log.debug('discovered users', {
            projectId: project.projectId,
            count: discovered.length,
          });
          return [...users, ...discovered];
        } catch (err) {
          onProjectError(project.projectId, err);
          const earlier = await previouslyFound(project.projectId).catch(() => []);
          return [...users, ...discoveredOf(earlier)];
        }
      }),
  );
  return perProject.flat();
};

/**
 * Users whose secret name another user also maps to (possible only through discovery: the
 * config schema rejects it among listed users), each with who else. Both would overwrite each
 * other, so both fail.
 */
export const secretNameCollisions = (users: readonly UserSettings[]): Map<string, string> => {
  const byName = new Map<string, UserSettings[]>();
  for (const user of users)
    byName.set(user.secretName, [...(byName.get(user.secretName) ?? []), user]);
  const collisions = new Map<string, string>();
  for (const sharing of byName.values()) {
    if (sharing.length < 2) continue;
    for (const user of sharing) {
      const others = sharing.filter((u) => u !== user).map((u) => `${u.projectId}:${u.username}`);
      collisions.set(keyOf(user), others.join(', '));
    }
  }
  return collisions;
};
