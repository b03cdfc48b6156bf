import { createHash, randomBytes } from 'node:crypto';
import type { Log } from '../../domain/log.js';
import {
  AtlasAuthError,
  type AtlasCall,
  AtlasResponseError,
  AtlasUnavailableError,
  type CredentialKind,
} from './errors.js';
import {
  type AttemptResult,
  isTransient,
  maxWaitFor,
  parseRetryAfter,
  type RawRequest,
  type RawResponse,
  type RetryOptions,
  runWithRetries,
} from './http.js';
import { parseJson } from './json.js';
import { oauthTokenSchema } from './schemas.js';

/**
 * An Atlas credential: a service account (OAuth 2.0, recommended) or a legacy API key (Digest).
 * `orgId` is the service account's organization when its secret names it (the shape Secrets
 * Manager's managed rotation keeps).
 */
export type AtlasCredentials =
  | { kind: 'serviceAccount'; clientId: string; clientSecret: string; orgId?: string }
  | { kind: 'apiKey'; publicApiKey: string; privateApiKey: string };

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

// ---------------------------------------------------------------------------------------------
// Digest (RFC 7616 subset Atlas uses: MD5 or SHA-256, qop=auth or none)

/** A parsed `WWW-Authenticate: Digest …` challenge. */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque: string | undefined;
  algorithm: 'MD5' | 'SHA-256';
  /** `auth` when offered; undefined for an RFC 2069 challenge without qop. */
  qop: 'auth' | undefined;
  stale: boolean;
}

const PARAM = /([a-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/gi;

/** Reads the Digest challenge of a 401; undefined when there is none or it cannot be answered. */
export const parseDigestChallenge = (
  header: string | string[] | undefined,
): DigestChallenge | undefined => {
  const values = Array.isArray(header) ? header : header === undefined ? [] : [header];
  const digest = values.find((value) => /^digest\s/i.test(value));
  if (!digest) return undefined;
  const params = new Map<string, string>();
  for (const match of digest.slice(7).matchAll(PARAM)) {
    const [, key = '', quoted, token] = match;
    params.set(key.toLowerCase(), quoted?.replace(/\\(.)/g, '$1') ?? token ?? '');
  }
  const nonce = params.get('nonce');
  const algorithm = (params.get('algorithm') ?? 'MD5').toUpperCase();
  const qops = params
    .get('qop')
    ?.split(',')
    .map((q) => q.trim().toLowerCase());
  if (!nonce || (algorithm !== 'MD5' && algorithm !== 'SHA-256')) return undefined;
  if (qops && !qops.includes('auth')) return undefined; // auth-int only: not supported
  return {
    realm: params.get('realm') ?? '',
    nonce,
    opaque: params.get('opaque'),
    algorithm,
    qop: qops ? 'auth' : undefined,
    stale: params.get('stale')?.toLowerCase() === 'true',
  };
};

/** Inputs of one Digest response computation. */
export interface DigestInput {
  username: string;
  password: string;
  realm: string;
  nonce: string;
  method: string;
  uri: string;
  algorithm: 'MD5' | 'SHA-256';
  qop: 'auth' | undefined;
  /** 8 hex digits, e.g. `00000001`. */
  nc: string;
  cnonce: string;
}

/** The `response` value of RFC 7616 §3.4.1 (RFC 2617 for MD5). */
export const digestResponse = (input: DigestInput): string => {
  const h = (text: string): string =>
    createHash(input.algorithm === 'MD5' ? 'md5' : 'sha256')
      .update(text)
      .digest('hex');
  const ha1 = h(`${input.username}:${input.realm}:${input.password}`);
  const ha2 = h(`${input.method}:${input.uri}`);
  return input.qop
    ? h(`${ha1}:${input.nonce}:${input.nc}:${input.cnonce}:${input.qop}:${ha2}`)
    : h(`${ha1}:${input.nonce}:${ha2}`);
};

const quote = (value: string): string => `"${value.replace(/[\\"]/g, '\\$&')}"`;

/** A Digest nonce and the last nonce count sent with it. */
interface NonceState {
  challenge: DigestChallenge;
  nc: number;
}

/**
 * Digest authentication for API keys. Requests share the last nonce that worked and answer it
 * with nc+1, which saves the 401 round trip while the server accepts the nonce. A request told
 * its nonce is stale (reused, expired, or overtaken by a higher nc) answers its own fresh
 * challenge: no other worker holds that nonce, so concurrent workers cannot make it stale again.
 * Once that nonce is accepted it becomes the shared one.
 */
export class DigestAuth implements AuthStrategy {
  readonly kind = 'apiKey' as const;
  private shared: NonceState | undefined;

  constructor(
    private readonly username: string,
    private readonly password: string,
  ) {}

  begin(): RequestAuth {
    let own: NonceState | undefined;
    return {
      authorize: async (method, uri) => {
        const state = own ?? this.shared;
        return state ? this.answer(state, method, uri) : undefined;
      },
      renew: (response) => {
        const challenge = parseDigestChallenge(response.headers['www-authenticate']);
        if (!challenge) return undefined;
        own = { challenge, nc: 0 };
        return challenge.stale ? 'stale' : 'fresh';
      },
      accepted: () => {
        if (own) this.shared = own;
      },
    };
  }

  private answer(state: NonceState, method: string, uri: string): string {
    const { challenge } = state;
    state.nc += 1;
    const nc = state.nc.toString(16).padStart(8, '0');
    const cnonce = randomBytes(16).toString('hex');
    const response = digestResponse({
      ...challenge,
      username: this.username,
      password: this.password,
      method,
      uri,
      nc,
      cnonce,
    });
    const parts = [
      `username=${quote(this.username)}`,
      `realm=${quote(challenge.realm)}`,
      `nonce=${quote(challenge.nonce)}`,
      `uri=${quote(uri)}`,
      `algorithm=${challenge.algorithm}`,
      `response=${quote(response)}`,
    ];
    if (challenge.qop) parts.push(`qop=${challenge.qop}`, `nc=${nc}`, `cnonce=${quote(cnonce)}`);
    if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
    return `Digest ${parts.join(', ')}`;
  }
}

// ---------------------------------------------------------------------------------------------
// OAuth 2.0 client credentials (service accounts)

/** What the token provider needs from the client. */
export interface TokenProviderOptions {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  userAgent: string;
  send: (req: RawRequest) => Promise<RawResponse>;
  retry: RetryOptions;
  deadline: () => number | undefined;
  now: () => number;
  log: Log;
  /** Counts each HTTP request to the token endpoint. */
  onRequest: () => void;
  onRetry: () => void;
}

/** Refresh this long before `expires_in` runs out, so a token never expires mid-request. */
const EXPIRY_MARGIN_MS = 60_000;

const TOKEN_PATH = '/api/oauth/token';

interface CachedToken {
  value: string;
  refreshAt: number;
}

/**
 * Fetches and caches the service account's bearer token. One token serves every concurrent
 * caller: a fetch in flight is shared (single flight), so N workers cause one token request.
 */
export class OAuthTokenProvider {
  private cached: CachedToken | undefined;
  private inflight: Promise<string> | undefined;
  /** Atlas rejected these credentials: they will not start working within this run. */
  private rejected: AtlasAuthError | undefined;
  private readonly call: AtlasCall = { method: 'POST', path: TOKEN_PATH };

  constructor(private readonly options: TokenProviderOptions) {}

  /** A valid access token, fetched only when none is cached or it is about to expire. */
  async token(): Promise<string> {
    const cached = this.cached;
    if (cached && this.options.now() < cached.refreshAt) return cached.value;
    if (this.rejected) throw this.rejected;
    this.inflight ??= this.fetchToken()
      .catch((err: unknown) => {
        if (err instanceof AtlasAuthError && err.code === 'ATLAS_CREDENTIALS_REJECTED') {
          this.rejected = err;
        }
        throw err;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  /**
   * Drops the cached token so the next call fetches a new one. With `rejected`, only when that
   * is still the cached token: another worker may have refreshed it already.
   */
  invalidate(rejected?: string): void {
    if (rejected === undefined || this.cached?.value === rejected) this.cached = undefined;
  }

  private async fetchToken(): Promise<string> {
    const { options } = this;
    const basic = Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64');
    const req: RawRequest = {
      url: `${options.baseUrl}${TOKEN_PATH}`,
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        'user-agent': options.userAgent,
      },
      body: 'grant_type=client_credentials',
    };
    const token = await runWithRetries((attempt) => this.attempt(req, attempt), {
      call: this.call,
      options: options.retry,
      deadline: options.deadline,
      maxWaitMs: maxWaitFor(options.deadline()),
      now: options.now,
      onRetry: ({ attempt, waitMs }) => {
        options.onRetry();
        options.log.debug('Atlas token request retry', { path: TOKEN_PATH, attempt, waitMs });
      },
      exhausted: (reason, attempts) =>
        new AtlasUnavailableError(this.call, `no token after ${attempts} attempts`, reason),
    });
    const lifetimeMs = token.expires_in * 1000;
    // Short-lived tokens (below twice the margin) are kept for half their life instead.
    const refreshIn = Math.max(lifetimeMs - EXPIRY_MARGIN_MS, lifetimeMs / 2);
    this.cached = { value: token.access_token, refreshAt: options.now() + refreshIn };
    return token.access_token;
  }

  private async attempt(
    req: RawRequest,
    attempt: number,
  ): Promise<AttemptResult<{ access_token: string; expires_in: number }>> {
    const { options } = this;
    let res: RawResponse;
    options.onRequest();
    try {
      res = await options.send(req);
    } catch (error) {
      options.log.debug('Atlas token request failed', { path: TOKEN_PATH, attempt });
      const reason = error instanceof Error ? error : new Error('transport failure');
      return isTransient(error)
        ? { kind: 'retry', reason, retryAfterMs: undefined }
        : { kind: 'fail', error: new AtlasUnavailableError(this.call, 'network failure', reason) };
    }
    options.log.debug('Atlas token response', { path: TOKEN_PATH, status: res.status, attempt });
    if (res.status === 200) return { kind: 'done', value: this.parseToken(res) };
    if (res.status === 429 || res.status >= 500) {
      const retryAfterMs = parseRetryAfter(res.headers['retry-after'], options.now());
      return { kind: 'retry', reason: new Error(`HTTP ${res.status}`), retryAfterMs };
    }
    const oauthError = oauthErrorCode(res.text);
    const rejected = res.status === 400 || res.status === 401 || res.status === 403;
    return {
      kind: 'fail',
      error: new AtlasAuthError(
        `Atlas POST ${TOKEN_PATH} ${rejected ? 'rejected the service account credentials' : 'failed'}: ` +
          `${res.status}${oauthError ? ` ${oauthError}` : ''}`,
        rejected
          ? { kind: 'serviceAccount' }
          : {
              kind: 'serviceAccount',
              code: 'ATLAS_TOKEN_REQUEST_FAILED',
              remedy: 'check the Atlas base URL; the token endpoint did not answer as expected',
            },
      ),
    };
  }

  private parseToken(res: RawResponse): { access_token: string; expires_in: number } {
    let json: unknown;
    try {
      json = parseJson(res.text);
    } catch {
      throw new AtlasResponseError(this.call, 'the token response is not JSON');
    }
    const parsed = oauthTokenSchema.safeParse(json);
    if (!parsed.success) {
      // Only field names: the body holds the token.
      const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)');
      throw new AtlasResponseError(this.call, `token response lacks valid ${fields.join(', ')}`);
    }
    return parsed.data;
  }
}

/** The OAuth `error` code (e.g. `invalid_client`) of a token error body, if it has a plain one. */
const oauthErrorCode = (text: string): string | undefined => {
  try {
    const body = parseJson(text);
    const code = typeof body === 'object' && body !== null ? Reflect.get(body, 'error') : undefined;
    return typeof code === 'string' && /^[a-z_]{1,40}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
};

/** Bearer-token authentication for service accounts. */
export class BearerAuth implements AuthStrategy {
  readonly kind = 'serviceAccount' as const;

  constructor(private readonly tokens: OAuthTokenProvider) {}

  begin(): RequestAuth {
    let sent: string | undefined;
    return {
      authorize: async () => {
        sent = await this.tokens.token();
        return `Bearer ${sent}`;
      },
      renew: () => {
        // Another worker may have refreshed the token already: drop only the one this sent.
        this.tokens.invalidate(sent);
        return 'fresh';
      },
      accepted: () => {},
    };
  }
}
