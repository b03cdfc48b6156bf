/**
 * HTTP Digest (RFC 2617, MD5, qop=auth) as Atlas speaks it for programmatic API keys: the
 * challenge format, parsing of the client's `Authorization: Digest ...` header, and the hashing.
 */
import { createHash, randomBytes } from 'node:crypto';

export const DIGEST_REALM = 'MMS Public API';

export const md5Hex = (text: string): string => createHash('md5').update(text).digest('hex');

export interface DigestResponseInput {
  username: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  nc: string;
  cnonce: string;
  qop: string;
}

/** response = MD5(HA1:nonce:nc:cnonce:qop:HA2), HA1 = MD5(user:realm:pass), HA2 = MD5(method:uri). */
export const digestResponse = (input: DigestResponseInput): string => {
  const ha1 = md5Hex(`${input.username}:${input.realm}:${input.password}`);
  const ha2 = md5Hex(`${input.method}:${input.uri}`);
  return md5Hex(`${ha1}:${input.nonce}:${input.nc}:${input.cnonce}:${input.qop}:${ha2}`);
};

/** A fresh server nonce; base64url so it never needs escaping inside the quoted value. */
export const newNonce = (): string => randomBytes(24).toString('base64url');

/**
 * The `WWW-Authenticate` value exactly as Atlas formats it: parameters separated by `", "`
 * (the Go digest client Atlas's SDK uses splits on exactly that) and `algorithm`/`stale` unquoted.
 */
export const digestChallenge = (nonce: string, stale: boolean): string =>
  `Digest realm="${DIGEST_REALM}", domain="", nonce="${nonce}", algorithm=MD5, qop="auth", stale=${stale}`;

/** The parameters a client sends in `Authorization: Digest ...`. */
export type DigestCredentials = Readonly<Record<string, string>>;

/**
 * Parses `Digest k1="v1", k2=v2, ...` into a record, or returns undefined when the header is not a
 * Digest header. Quoted values may contain commas and backslash-escaped characters.
 */
export const parseDigestAuthorization = (header: string): DigestCredentials | undefined => {
  const match = /^Digest\s+(.*)$/is.exec(header.trim());
  const params = match?.[1];
  if (params === undefined) return undefined;
  const result: Record<string, string> = {};
  const pair = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/gy;
  for (;;) {
    const start = pair.lastIndex;
    if (start >= params.length) break;
    const m = pair.exec(params);
    if (!m?.[1]) return undefined;
    result[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
    // Allow whitespace after a separating comma.
    while (pair.lastIndex < params.length && /\s/.test(params.charAt(pair.lastIndex))) {
      pair.lastIndex++;
    }
  }
  return result;
};
