import { RotatorError } from '../errors.js';

/** What an operator (or the schedule) asks of a run. */

export interface UserRef {
  projectId: string;
  username: string;
}

export interface RotationRequest {
  /** List, evaluate and report; mint nothing, write nothing, take no lease. */
  dryRun: boolean;
  /** Mint even for users that are not due (only for the users `only` names, or all with `all`). */
  force: boolean;
  /** Restrict the run to these users. */
  only?: UserRef[] | undefined;
  /** With `force`: every user. */
  all?: boolean | undefined;
}

/** A map key for a user. */
export const keyOf = (u: UserRef): string => `${u.projectId}\u0000${u.username}`;

export const sameUser = (a: UserRef, b: UserRef): boolean =>
  a.projectId === b.projectId && a.username === b.username;

/** Raised for a request that contradicts itself (e.g. `force` without `only` or `all`). */
export class RequestError extends RotatorError {
  constructor(message: string) {
    super(message, {
      code: 'INVALID_REQUEST',
      remedy: 'Pass --force together with --only <projectId>:<username> or --all.',
      scope: 'run',
    });
    this.name = 'RequestError';
  }
}

/** Checks the request's own consistency; config-independent. */
export const validateRequest = (request: RotationRequest): void => {
  if (request.force && !request.all && !request.only?.length) {
    throw new RequestError('force needs an explicit list of users (only) or all');
  }
  if (request.all && !request.force) throw new RequestError('all is only meaningful with force');
  if (request.all && request.only?.length) {
    throw new RequestError('give either only or all, not both');
  }
};

/** Does the request force a mint for this user? */
export const isForced = (request: RotationRequest, user: UserRef): boolean =>
  request.force && (request.all === true || (request.only ?? []).some((o) => sameUser(o, user)));
