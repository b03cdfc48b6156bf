import { createHash } from 'node:crypto';
import type { UserSettings } from '../config/types.js';
import { RotatorError } from '../errors.js';
import { type SecretState, type ServedRequest, TAG_VALUE_MAX } from '../stored-value.js';
import { requestIdentity } from './request.js';
import { forcedFor, type Run } from './run-state.js';

/**
 * Forced requests served once, by identity rather than by a clock. The version a forced request
 * stored is recorded on the secret, in the requests tag, right after the store and before the
 * promotion: a retried invoke reads the tag in the index it reads anyway (or in DescribeSecret)
 * and mints nothing more. A crash between the store and the tag leaves a pending version, which
 * the retry finishes instead of minting; only a secret's first certificate (current at once)
 * could then be minted once more, within the mint cap.
 */

/** A request id as the tag holds it: fixed length, whatever the id. */
export const requestToken = (id: string): string =>
  createHash('sha256').update(id).digest('hex').slice(0, 16);

/** The tag value with this request's record first, as many older ones as fit (about 9). */
export const servedTagValue = (
  earlier: readonly ServedRequest[],
  id: string,
  versionId: string,
): string => {
  const records = [
    `${requestToken(id)}:${versionId.replace(/[^0-9A-Za-z]/g, '').slice(0, 8)}`,
    ...earlier.map((r) => `${r.request}:${r.version}`),
  ];
  let value = '';
  for (const record of new Set(records)) {
    const next = value ? `${value} ${record}` : record;
    if (next.length > TAG_VALUE_MAX) break;
    value = next;
  }
  return value;
};

export type { ServedRequest };

/** The record of the version this request stored in the secret, if it stored one. */
export const servedBy = (
  state: Pick<SecretState, 'servedRequests'> | undefined,
  id: string | undefined,
): ServedRequest | undefined => {
  if (!id || !state?.servedRequests) return undefined;
  const token = requestToken(id);
  return state.servedRequests.find((r) => r.request === token);
};

/** A forced row's note when the request has no identity: its retry is a new request. */
export const NO_IDENTITY_NOTE =
  'this forced request carries no requestId (nor requestedAt): a retried invoke of it mints again';

/**
 * Records that the run's forced request stored `versionId` for this user. Best effort: a
 * record that cannot be written is logged; a retry of the request may then mint again (within
 * the mint cap).
 */
export const recordServed = async (
  run: Run,
  user: UserSettings,
  state: SecretState,
  versionId: string,
): Promise<void> => {
  const id = requestIdentity(run.request);
  if (!id || !forcedFor(run, user)) return;
  try {
    await run.ctx.store.tag(state, {
      requests: servedTagValue(state.servedRequests ?? [], id, versionId),
    });
  } catch (err) {
    run.ctx.log.warn('could not record the forced request on the secret: a retry may mint again', {
      projectId: user.projectId,
      username: user.username,
      requestId: id,
      errorCode: err instanceof RotatorError ? err.code : undefined,
    });
  }
};
