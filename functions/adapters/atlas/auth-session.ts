import { asError, RotatorError } from '../../domain/errors.js';
import type { Log } from '../../domain/log.js';
import type { AtlasCredentials, AuthStrategy, RereadCredentials } from './auth.js';
import type { CallSpec } from './call.js';
import type { AtlasClientStats } from './client-options.js';
import { DigestAuth } from './digest.js';
import { AtlasAuthError, lateToSend } from './errors.js';
import type { RawRequest, RawResponse, RetryOptions } from './http.js';
import { BearerAuth, OAuthTokenProvider } from './oauth.js';
import { apiErrorOf } from './responses.js';

/** Stale-nonce 401s one request answers before giving up: each answer uses its own fresh nonce. */
const MAX_STALE_NONCES = 3;

/**
 * The longest a re-read of the credential may take, retries included, whatever the secrets
 * client allows (8 attempts of up to 13 s): less when the run has less left.
 */
export const REREAD_BUDGET_MS = 20_000;

/** Whether two credentials are the same one (compared in memory only, never logged). */
const sameCredential = (a: AtlasCredentials, b: AtlasCredentials): boolean =>
  a.kind === 'serviceAccount'
    ? b.kind === 'serviceAccount' && a.clientId === b.clientId && a.clientSecret === b.clientSecret
    : b.kind === 'apiKey' &&
      a.publicApiKey === b.publicApiKey &&
      a.privateApiKey === b.privateApiKey;

/** 401 error codes that are about project membership or roles, not about the credential. */
const PROJECT_AUTH_CODES = new Set(['NOT_IN_GROUP', 'USER_UNAUTHORIZED']);

/** What the session needs from the transport. */
export interface AuthSessionOptions {
  baseUrl: string;
  credentials: AtlasCredentials;
  /** Reads the credential again after Atlas rejected it (`AtlasClientOptions`). */
  rereadCredentials: RereadCredentials | undefined;
  userAgent: string;
  /** Sends one token request (service accounts); the token endpoint is not paced. */
  sendToken: (req: RawRequest) => Promise<RawResponse>;
  retry: RetryOptions;
  deadline: () => number | undefined;
  now: () => number;
  log: Log;
  /** The client's counters: the session counts token requests, their retries and 401s answered. */
  stats: AtlasClientStats;
}

/** Sends the request once with this `Authorization` value (none: unauthenticated). */
export type SendSigned = (authorization: string | undefined) => Promise<RawResponse>;

/**
 * Who the client is to Atlas: the credential in use, the strategy its kind calls for (a Bearer
 * token, or a Digest answer), the 401s a request is answered again after, and one re-read of the
 * credential after Atlas rejected it. Sending, retries, pacing and deadlines are the transport's.
 */
export class AuthSession {
  private credentialsInUse: AtlasCredentials;
  private auth: AuthStrategy;
  /** The one re-read after a rejection, shared by every request rejected meanwhile. */
  private reread: Promise<void> | undefined;

  constructor(private readonly options: AuthSessionOptions) {
    this.credentialsInUse = options.credentials;
    this.auth = this.authFor(options.credentials);
  }

  /** The credential requests are sent with now (a re-read may have replaced the first). */
  get credentials(): AtlasCredentials {
    return this.credentialsInUse;
  }

  private authFor(credentials: AtlasCredentials): AuthStrategy {
    if (credentials.kind === 'apiKey') {
      return new DigestAuth(credentials.publicApiKey, credentials.privateApiKey);
    }
    const { stats } = this.options;
    const tokens = new OAuthTokenProvider({
      baseUrl: this.options.baseUrl,
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
      userAgent: this.options.userAgent,
      send: this.options.sendToken,
      retry: this.options.retry,
      deadline: this.options.deadline,
      now: this.options.now,
      log: this.options.log,
      onRequest: () => {
        stats.tokenRequests += 1;
      },
      onRetry: () => {
        stats.retries += 1;
      },
    });
    return new BearerAuth(tokens);
  }

  /**
   * Sends the request; if Atlas rejects the credential, reads it again (once per client) and,
   * when it changed, sends the request again with the new one. A rejected request changed
   * nothing in Atlas, a create included, so sending it again is safe. `signedUri` is the path
   * and query the server sees (Digest signs it). Every step before a send (a re-read, a token,
   * a Digest challenge's answer) ends by `sendBy`, or the request is not sent (`lateToSend`).
   */
  async send(
    spec: CallSpec,
    signedUri: string,
    sendBy: number | undefined,
    sendSigned: SendSigned,
  ): Promise<RawResponse> {
    for (;;) {
      const used = this.auth;
      try {
        return await this.sendAuthenticated(spec, signedUri, used, sendBy, sendSigned);
      } catch (error) {
        const rejected =
          error instanceof AtlasAuthError && error.code === 'ATLAS_CREDENTIALS_REJECTED';
        if (!rejected || !(await this.replaceRejected(spec, used, sendBy))) throw error;
      }
    }
  }

  /**
   * Waits for `work` no later than `sendBy` (real time; and the clock checked after, so a clock
   * that moved past it counts too): a request may not wait for a step past its last moment.
   */
  private async bounded<T>(
    spec: CallSpec,
    sendBy: number | undefined,
    step: string,
    work: Promise<T>,
  ): Promise<T> {
    if (sendBy === undefined) return work;
    const { now } = this.options;
    const late = () => lateToSend(spec, sendBy, Math.max(now(), sendBy), step);
    if (now() > sendBy) throw late();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(late()), Math.max(0, sendBy - now()));
      timer.unref();
    });
    // Another request may still use what this one stopped waiting for: no unhandled rejection.
    work.catch(() => {});
    try {
      const value = await Promise.race([work, expired]);
      if (now() > sendBy) throw late();
      return value;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Whether a credential other than the rejected `used` is now in use. */
  private async replaceRejected(
    spec: CallSpec,
    used: AuthStrategy,
    sendBy: number | undefined,
  ): Promise<boolean> {
    if (this.auth !== used) return true;
    const read = this.options.rereadCredentials;
    if (!read) return false;
    this.reread ??= this.readAgain(read);
    await this.bounded(spec, sendBy, 'reading the credential again', this.reread);
    return this.auth !== used;
  }

  private async readAgain(read: RereadCredentials): Promise<void> {
    const { log, now } = this.options;
    // Shared by every request rejected meanwhile: bounded by the run, each request by its own.
    const deadline = this.options.deadline();
    const budgetMs = Math.min(
      REREAD_BUDGET_MS,
      deadline === undefined ? Infinity : deadline - now(),
    );
    if (budgetMs <= 0) {
      log.warn('Atlas rejected the credential; no time left in the run to read it again');
      return;
    }
    let fresh: AtlasCredentials;
    try {
      fresh = await read({ abortSignal: AbortSignal.timeout(budgetMs) });
    } catch (error) {
      const errorCode = error instanceof RotatorError ? error.code : asError(error).name;
      log.warn('Atlas rejected the credential and reading it again failed', { errorCode });
      return;
    }
    if (sameCredential(fresh, this.credentialsInUse)) {
      log.warn('Atlas rejected the credential; the secret still holds the same one');
      return;
    }
    this.credentialsInUse = fresh;
    this.auth = this.authFor(fresh);
    log.info('Atlas rejected the credential; the secret holds a new one, using it', {
      kind: fresh.kind,
    });
  }

  /**
   * Sends the request, answering one 401 with fresh authentication (a new token, or the new
   * Digest challenge); a second such 401 means the credential itself is rejected. A Digest
   * `stale` 401 accepted the credential and only refused the nonce, so it is answered again,
   * a bounded number of times.
   */
  private async sendAuthenticated(
    spec: CallSpec,
    signedUri: string,
    strategy: AuthStrategy,
    sendBy: number | undefined,
    sendSigned: SendSigned,
  ): Promise<RawResponse> {
    const auth = strategy.begin();
    const answered = { fresh: 0, stale: 0 };
    for (;;) {
      const authorization = await this.bounded(
        spec,
        sendBy,
        strategy.kind === 'serviceAccount'
          ? 'requesting a token'
          : 'answering the Digest challenge',
        auth.authorize(spec.method, signedUri),
      );
      const res = await sendSigned(authorization);
      if (res.status !== 401) {
        auth.accepted();
        return res;
      }
      const apiError = apiErrorOf(spec, res);
      // An authenticated 401 about membership or roles: the credential is fine, the project is not.
      if (authorization !== undefined && PROJECT_AUTH_CODES.has(apiError.errorCode)) throw apiError;
      const renewal = auth.renew(res);
      if (renewal) answered[renewal] += 1;
      const again =
        (renewal === 'stale' && answered.stale <= MAX_STALE_NONCES) ||
        (renewal === 'fresh' && answered.fresh === 1);
      if (!again) {
        const what = strategy.kind === 'serviceAccount' ? 'service account' : 'API key';
        throw new AtlasAuthError(
          `Atlas ${spec.method} ${spec.path} rejected the ${what} credentials: 401 ${apiError.errorCode}`,
          { kind: strategy.kind, cause: apiError },
        );
      }
      this.options.stats.authChallenges += 1;
    }
  }
}
