import type { AtlasCall } from './errors.js';
import type { RawRequest } from './http.js';

/** One Admin API call as the client describes it to the transport. */

/**
 * How a request may be repeated. `safe`: any transient failure. `create`: only when no
 * certificate can have been minted. `unsafe`: only when the request provably did not reach
 * Atlas (connection refused) or was throttled.
 */
export type Safety = 'safe' | 'create' | 'unsafe';

export interface CallSpec extends AtlasCall {
  method: RawRequest['method'];
  query?: string;
  body?: string;
  safety: Safety;
  /** The versioned media type; every certificate endpoint exists only in 2023-01-01. */
  mediaType?: string;
  /** No attempt starts after this (epoch ms), besides the run's deadline. */
  startBy?: number | undefined;
}

/** Just what errors may name about a call: never its body. */
export const callOf = ({ method, path, groupId }: CallSpec): AtlasCall =>
  groupId === undefined ? { method, path } : { method, path, groupId };
