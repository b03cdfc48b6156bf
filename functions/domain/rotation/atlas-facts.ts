import { DeadlineError, RotatorError } from '../errors.js';
import {
  ATLAS_REFUSALS,
  type AtlasFactsInput,
  UserNotManagedX509,
} from './policies/atlas-refusals.js';
import { firstVerdict, type Refusal, refusalOf } from './policies/chain.js';
import type { AtlasDatabaseUser, AtlasPort } from './ports.js';
import type { UserRef } from './request.js';
import type { Run } from './run-state.js';

/**
 * What Atlas's create would refuse, read before a secret is created or a mint tried: the
 * user's `x509Type` (the project's database-user list) and the project's customer CA. Read at
 * most once per run and project, and only for a user about to mint (or in a dry run), so a
 * day when nobody is due costs no extra request.
 */

interface Facts {
  /** Raw lists, shared with discovery. */
  users: Map<string, Promise<AtlasDatabaseUser[]>>;
  /** The lists as the checks use them: undefined when they could not be read. */
  checked: Map<string, Promise<AtlasDatabaseUser[] | undefined>>;
  customerCa: Map<string, Promise<boolean | undefined>>;
}

const perRun = new WeakMap<Run, Facts>();

const factsOf = (run: Run): Facts => {
  let facts = perRun.get(run);
  if (!facts) {
    facts = { users: new Map(), checked: new Map(), customerCa: new Map() };
    perRun.set(run, facts);
  }
  return facts;
};

/** One promise per key: concurrent users of a project share one request. */
const once = <T>(cache: Map<string, Promise<T>>, key: string, read: () => Promise<T>) => {
  let promise = cache.get(key);
  if (!promise) {
    promise = read();
    cache.set(key, promise);
  }
  return promise;
};

const usersOf = (run: Run, projectId: string): Promise<AtlasDatabaseUser[]> =>
  once(factsOf(run).users, projectId, () => run.ctx.atlas.listDatabaseUsers(projectId));

/** `listDatabaseUsers` through the run's cache, so discovery's list also serves the checks. */
export const sharedUserLists = (run: Run): Pick<AtlasPort, 'listDatabaseUsers'> => ({
  listDatabaseUsers: (projectId) => usersOf(run, projectId),
});

/**
 * The checks only predict what the create will answer anyway: a user-scoped failure to read
 * (Atlas unavailable, a bad response) leaves the fact unknown, and the create tells. What
 * stops a run or a project, and the deadline, still stop.
 */
const orUnknown = async <T>(
  run: Run,
  what: string,
  projectId: string,
  read: Promise<T>,
): Promise<T | undefined> => {
  try {
    return await read;
  } catch (err) {
    if (!(err instanceof RotatorError) || err instanceof DeadlineError || err.scope !== 'user') {
      throw err;
    }
    run.ctx.log.warn(`cannot read ${what}; creating as before, Atlas's answer decides`, {
      projectId,
      errorCode: err.code,
    });
    return undefined;
  }
};

const checkedUsersOf = (run: Run, projectId: string) =>
  once(factsOf(run).checked, projectId, () =>
    orUnknown(run, "the project's database users", projectId, usersOf(run, projectId)),
  );

const customerCaOf = (run: Run, projectId: string) =>
  once(factsOf(run).customerCa, projectId, async () => {
    const read = run.ctx.atlas.customerCaConfigured(projectId);
    const configured = await orUnknown(
      run,
      "the project's customer X.509 setting",
      projectId,
      read,
    );
    if (configured === undefined) {
      run.ctx.log.debug('customer X.509 setting unknown; creating as before', {
        projectId,
        why: 'reading userSecurity needs Project Owner',
      });
    }
    return configured;
  });

/** The user Atlas's create acts on: the X.509 one (on `$external`) when the name is on several. */
const databaseUserOf = (listed: readonly AtlasDatabaseUser[] | undefined, username: string) => {
  const named = listed?.filter((u) => u.username === username) ?? [];
  return named.find((u) => u.databaseName === '$external') ?? named[0];
};

/**
 * What Atlas would answer a create for `user` with, if it would refuse it. Reads each fact just
 * before the check that needs it: a user Atlas does not manage costs no `userSecurity` read.
 */
export const atlasRefusal = async (run: Run, user: UserRef): Promise<Refusal | undefined> => {
  const input: AtlasFactsInput = {
    user,
    databaseUser: databaseUserOf(await checkedUsersOf(run, user.projectId), user.username),
    customerCa: undefined,
  };
  const unmanaged = refusalOf(firstVerdict([UserNotManagedX509], input));
  if (unmanaged) return unmanaged;
  input.customerCa = await customerCaOf(run, user.projectId);
  return refusalOf(firstVerdict(ATLAS_REFUSALS, input));
};
