import { createHash, randomBytes } from 'node:crypto';
import type { AuthStrategy, RequestAuth } from './auth.js';

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
