import { createHash } from 'node:crypto';
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
   * With `force`: when the operator asked (ISO 8601 in the payload). Without `requestId`, the
   * request's identity is a hash of the payload with it (`requestIdentity`).
   */
  requestedAt?: Date | undefined;
  /**
   * With `force`: the request's identity. A forced user is served once per identity: the
   * secret records the identities that stored a version (`served.ts`), so a retried invoke of
   * the same request mints nothing more, and any other request mints again (the mint cap holds).
   */
  requestId?: string | undefined;
}

/** What a request id may hold: it is recorded on the secret, in a tag value. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** A requestedAt further ahead of the receiver's clock than this is refused as a mistake. */
export const REQUESTED_AT_FUTURE_TOLERANCE_MS = 5 * 60_000;

/**
 * The identity of a forced request: its `requestId`, else (for callers that send only
 * `requestedAt`) `at-` and a hash of what it asks with that time, so the same payload sent again
 * is the same request. Undefined for a forced request carrying neither: each one is new.
 */
export const requestIdentity = (request: RotationRequest): string | undefined => {
  if (!request.force) return undefined;
  if (request.requestId) return request.requestId;
  if (!request.requestedAt) return undefined;
  const asked = JSON.stringify({
    force: true,
    all: request.all === true,
    only: (request.only ?? []).map((u) => [u.projectId, u.username]),
    requestedAt: request.requestedAt.toISOString(),
  });
  return `at-${createHash('sha256').update(asked).digest('hex').slice(0, 32)}`;
};

/** A map key for a user. */
export const keyOf = (u: UserRef): string => `${u.projectId}\u0000${u.username}`;

export const sameUser = (a: UserRef, b: UserRef): boolean =>
  a.projectId === b.projectId && a.username === b.username;

/** Raised for a request that contradicts itself (e.g. `force` without `only` or `all`). */
export class RequestError extends RotatorError {
  constructor(
    message: string,
    remedy = 'Pass --force together with --only <projectId>:<username> or --all.',
  ) {
    super(message, {
      code: 'INVALID_REQUEST',
      remedy,
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
  // An id only names a forced request: without force nothing would record or serve it.
  if (request.requestId !== undefined && !request.force) {
    throw new RequestError(
      'requestId is only meaningful with force',
      'Add force (--force) with only or all, or leave the request id out.',
    );
  }
  if (request.requestId !== undefined && !REQUEST_ID_PATTERN.test(request.requestId)) {
    throw new RequestError(
      `requestId: "${request.requestId.slice(0, 140)}" is not 1 to 128 characters of letters, digits and ._:-`,
      'Give a request id such as "ticket-4711" (--request-id), or none: the CLI makes one per command.',
    );
  }
};

/** Does the request force a mint for this user? */
export const isForced = (request: RotationRequest, user: UserRef): boolean =>
  request.force && (request.all === true || (request.only ?? []).some((o) => sameUser(o, user)));
