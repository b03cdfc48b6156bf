/**
 * The simulator's authentication: OAuth client credentials (its token and revoke endpoints,
 * Bearer tokens) and HTTP Digest with API keys, with nonce expiry and replay checks.
 */
import { randomBytes } from 'node:crypto';
import {
  DIGEST_REALM,
  type DigestCredentials,
  digestChallenge,
  digestResponse,
  newNonce,
  parseDigestAuthorization,
} from './digest.js';
import type {
  AccessToken,
  AuthOutcome,
  NonceState,
  RequestContext,
  SimulatorBehaviour,
  SimulatorStats,
} from './model.js';
import { jsonResponse, type SimResponse } from './responses.js';
import { REVOKE_PATH, resourceNotFound, safeEqual, unauthorized } from './wire.js';

export class SimulatorAuth {
  /** Service accounts: client id to secret. */
  readonly serviceAccounts = new Map<string, string>();
  /** API keys: public key to private key. */
  readonly apiKeys = new Map<string, string>();
  readonly tokens = new Map<string, AccessToken>();
  /** Every access token issued so far, for leak scans. */
  readonly everIssued: string[] = [];
  readonly #nonces = new Map<string, NonceState>();

  constructor(
    private readonly now: () => number,
    private readonly behaviour: SimulatorBehaviour,
    private readonly stats: SimulatorStats,
  ) {}

  /** OAuth endpoints: `Authorization: Basic base64(clientId:clientSecret)`. */
  authenticateClient(ctx: RequestContext): AuthOutcome {
    const invalidClient: AuthOutcome = {
      ok: false,
      response: jsonResponse(401, {
        error: 'invalid_client',
        error_description: 'Client authentication failed.',
      }),
    };
    const match = /^Basic\s+(\S+)$/i.exec(ctx.headers.authorization ?? '');
    if (!match?.[1]) return invalidClient;
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return invalidClient;
    const clientId = decoded.slice(0, colon);
    const expected = this.serviceAccounts.get(clientId);
    if (expected === undefined || !safeEqual(expected, decoded.slice(colon + 1))) {
      return invalidClient;
    }
    return { ok: true, method: 'basic', clientId };
  }

  /** `/api/atlas/v2`: a Bearer token, or HTTP Digest with an API key. */
  authenticateApi(ctx: RequestContext): AuthOutcome {
    const header = ctx.headers.authorization;
    if (!header) return this.digestChallenge(false);
    if (/^Bearer\s/i.test(header)) return this.checkBearer(header.replace(/^Bearer\s+/i, ''));
    const credentials = parseDigestAuthorization(header);
    if (!credentials) return this.digestChallenge(false);
    return this.checkDigest(ctx, credentials);
  }

  private checkBearer(token: string): AuthOutcome {
    const found = this.tokens.get(token.trim());
    if (found && found.expiresAtMs > this.now()) {
      return { ok: true, method: 'bearer', clientId: found.clientId };
    }
    if (found) this.tokens.delete(token.trim());
    // A Bearer client gets no Digest challenge: it would not know what to do with one.
    return { ok: false, response: unauthorized() };
  }

  /**
   * Verifies an MD5 / qop=auth Digest response. The credential is checked before the nonce, so
   * `stale=true` is only ever sent to a client whose password is right (RFC 2617 §3.2.1).
   */
  private checkDigest(ctx: RequestContext, c: DigestCredentials): AuthOutcome {
    const { username, realm, nonce, uri, response, qop, nc, cnonce } = c;
    const algorithm = (c.algorithm ?? 'MD5').toUpperCase();
    if (
      username === undefined ||
      nonce === undefined ||
      uri === undefined ||
      response === undefined ||
      cnonce === undefined ||
      nc === undefined ||
      !/^[0-9a-f]{8}$/i.test(nc) ||
      realm !== DIGEST_REALM ||
      qop !== 'auth' ||
      algorithm !== 'MD5' ||
      uri !== ctx.rawUrl
    ) {
      return this.digestChallenge(false);
    }
    const password = this.apiKeys.get(username);
    if (password === undefined) return this.digestChallenge(false);
    const expected = digestResponse({
      username,
      realm,
      password,
      method: ctx.method,
      uri,
      nonce,
      nc,
      cnonce,
      qop,
    });
    if (!safeEqual(expected, response.toLowerCase())) return this.digestChallenge(false);

    const state = this.#nonces.get(nonce);
    const now = this.now();
    if (!state || now - state.issuedAtMs >= this.behaviour.nonceTtlSeconds * 1000) {
      return this.digestChallenge(true);
    }
    const count = Number.parseInt(nc, 16);
    const replay = this.behaviour.digestNonceReuse ? count <= state.lastNc : state.lastNc > 0;
    if (replay) return this.digestChallenge(true);
    state.lastNc = count;
    return { ok: true, method: 'digest' };
  }

  private digestChallenge(stale: boolean): AuthOutcome {
    this.pruneNonces();
    const nonce = newNonce();
    this.#nonces.set(nonce, { issuedAtMs: this.now(), lastNc: 0 });
    this.stats.digestChallenges += 1;
    return {
      ok: false,
      response: unauthorized({ 'WWW-Authenticate': digestChallenge(nonce, stale) }),
    };
  }

  private pruneNonces(): void {
    if (this.#nonces.size < 1000) return;
    const oldest = this.now() - this.behaviour.nonceTtlSeconds * 1000;
    for (const [nonce, state] of this.#nonces) {
      if (state.issuedAtMs < oldest) this.#nonces.delete(nonce);
    }
  }

  handleOAuth(ctx: RequestContext, clientId: string): SimResponse {
    if (ctx.method !== 'POST') return resourceNotFound(ctx.rawPath);
    const form = new URLSearchParams(ctx.body.toString('utf8'));
    if (ctx.rawPath === REVOKE_PATH) {
      const token = form.get('token') ?? '';
      if (this.tokens.get(token)?.clientId === clientId) this.tokens.delete(token);
      // RFC 7009: 200 whether or not the token was known.
      return { status: 200, headers: {}, body: '' };
    }
    const grantType = form.get('grant_type');
    if (grantType !== 'client_credentials') {
      return jsonResponse(400, {
        error: grantType === null ? 'invalid_request' : 'unsupported_grant_type',
        error_description: 'grant_type must be client_credentials.',
      });
    }
    const accessToken = randomBytes(32).toString('base64url');
    const ttl = this.behaviour.tokenTtlSeconds;
    this.tokens.set(accessToken, { clientId, expiresAtMs: this.now() + ttl * 1000 });
    this.everIssued.push(accessToken);
    this.stats.tokensIssued += 1;
    return jsonResponse(200, { access_token: accessToken, expires_in: ttl, token_type: 'Bearer' });
  }
}
