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
  /**
   * With `force`: when the operator asked. A user whose current version was stored after it
   * (less the clock-skew allowance) has been served already, by this request's earlier try.
   */
  requestedAt?: Date | undefined;
}

/**
 * Secrets Manager's clock and the requester's may disagree by this much (keep clocks on NTP). A
 * certificate stored this long before a forced request still counts as serving it, so a retried
 * request never mints twice because the requester's clock runs ahead; the price is that forcing
 * a user within a minute of its last store is a no-op, and says so.
 */
export const FORCE_CLOCK_SKEW_MS = 60_000;

/** A requestedAt further ahead of the receiver's clock than this is refused as a mistake. */
export const REQUESTED_AT_FUTURE_TOLERANCE_MS = 5 * 60_000;

/** Has a forced request already been served for a secret whose current version is this old? */
export const forceServed = (
  requestedAt: Date | undefined,
  currentStoredAt: Date | undefined,
): boolean =>
  requestedAt !== undefined &&
  currentStoredAt !== undefined &&
  currentStoredAt.getTime() >= requestedAt.getTime() - FORCE_CLOCK_SKEW_MS;

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
