import type { Log } from '../../domain/log.js';
import type { AuthStrategy, RequestAuth } from './auth.js';
import {
  AtlasAuthError,
  type AtlasCall,
  AtlasResponseError,
  AtlasUnavailableError,
  AtlasUnreachableError,
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
  unreachableCode,
} from './http.js';
import { parseJson } from './json.js';
import { oauthTokenSchema } from './schemas.js';

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
      const unreachable = unreachableCode(error);
      if (unreachable) {
        const stop = new AtlasUnreachableError(this.call, options.baseUrl, unreachable, reason);
        return { kind: 'fail', error: stop };
      }
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
