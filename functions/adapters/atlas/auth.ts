import type { CredentialKind } from './errors.js';
import type { RawResponse } from './http.js';

/**
 * An Atlas credential: a service account (OAuth 2.0, recommended) or a legacy API key (Digest).
 * `orgId` is the service account's organization when its secret names it (the shape Secrets
 * Manager's managed rotation keeps).
 */
export type AtlasCredentials =
  | { kind: 'serviceAccount'; clientId: string; clientSecret: string; orgId?: string }
  | { kind: 'apiKey'; publicApiKey: string; privateApiKey: string };

/** Reads the credential again; stops when `abortSignal` fires. */
export type RereadCredentials = (bound: { abortSignal?: AbortSignal }) => Promise<AtlasCredentials>;

/** How the client authenticates each API request. */
export interface AuthStrategy {
  readonly kind: CredentialKind;
  /** Authentication for one request, kept across the 401s it is answered with. */
  begin(): RequestAuth;
}

/**
 * What a 401 (not about project membership) allows: `fresh`, new authentication is ready and a
 * second rejection means the credential is bad; `stale`, the server accepted the credential but
 * not its Digest nonce, so answering again is safe; undefined, nothing new to try.
 */
export type Renewal = 'fresh' | 'stale' | undefined;

/** One request's authentication. */
export interface RequestAuth {
  /** The `Authorization` value for this request; undefined to go without (Digest, unchallenged). */
  authorize(method: string, uri: string): Promise<string | undefined>;
  /** Called on a 401 that is not about project membership; prepares the next attempt. */
  renew(response: RawResponse): Renewal;
  /** Called once the server accepted the request's authentication. */
  accepted(): void;
}
