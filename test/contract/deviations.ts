/**
 * Where Atlas's published spec and Atlas itself disagree, the recording wins. Each such place is
 * named here once, with its evidence; the checks (check.ts) read these and nothing else bends
 * the spec. Recordings: test/fixtures/atlas-recorded/ (real Atlas answers, byte for byte).
 */

type Json = Record<string, unknown>;

/**
 * `UserCert.subject`'s pattern demands `DC=` parts (an LDAP-style DN); Atlas answers
 * `"subject":"CN=user389"` (list-certs.http). Accepted: the spec's pattern, or a lone `CN=`.
 */
export const SUBJECT_PATTERN_DEVIATION = '^CN=[^,]+$';

/**
 * `UserCert._id` is described as a "24-hexadecimal character string" but typed `integer`/`int64`;
 * Atlas sends a bare JSON integer above 2^53 (`1976722359483124370`, list-certs.http). The type
 * wins, and since `JSON.parse` would round such a number, bodies are parsed losslessly and every
 * integer is checked against the int64 range on its digits (check.ts `parseLossless`).
 */
export const ID_INT64_DEVIATION = 'UserCert._id: int64 above 2^53, not a 24-hex string';

/**
 * The spec's 429 example says `errorCode: RATE_LIMITED`; Atlas's rate-limit documentation
 * ("Atlas Administration API rate limiting") shows `RATE_LIMITED_TOKEN_BUCKET`. Both are accepted
 * on a 429, and nothing else is.
 */
export const RATE_LIMIT_ERROR_CODES: ReadonlySet<string> = new Set([
  'RATE_LIMITED',
  'RATE_LIMITED_TOKEN_BUCKET',
]);

/**
 * The create (`POST .../databaseUsers/{username}/certs`) documents a 201 whose
 * `application/vnd.atlas.2023-01-01+json` body is a JSON string; Atlas sends the certificate PEM
 * (and the key) raw, unquoted, under that JSON content type (create-cert.http). The raw text is
 * what is checked: a PEM certificate first.
 */
export const RAW_PEM_CREATE = {
  method: 'POST',
  template: '/api/atlas/v2/groups/{groupId}/databaseUsers/{username}/certs',
};

/**
 * No response header is marked required in the spec. Recorded Atlas sends `Ratelimit-Limit` and
 * `Ratelimit-Remaining` on every certificate answer (both recordings), and Atlas's rate-limit
 * documentation promises `Retry-After` on a 429: those are required here.
 */
export const CERTS_TEMPLATE = '/api/atlas/v2/groups/{groupId}/databaseUsers/{username}/certs';

/**
 * No operation lists 406, but Atlas answers an `Accept` version date an operation does not have
 * with `406 INVALID_VERSION_DATE` in an `ApiError` (the simulator's note in atlas-simulator.ts:
 * observed on another v2 endpoint; not in the recordings here). Accepted with that code only;
 * the simulator answers so for a `/rateLimits` that is not there.
 */
export const UNDOCUMENTED_406 = { status: 406, errorCode: 'INVALID_VERSION_DATE' };

/**
 * The spec bounds the paging parameters (`itemsPerPage` 1..500, `pageNum` >= 1) on every list
 * but documents no 400 for `listDatabaseUsers` to refuse them with. A 400 `ApiError` is accepted
 * for a request that is itself outside the spec's parameters, on any operation; the simulator
 * answers `INVALID_QUERY_PARAMETER` (unrecorded) as on the certificate list, which has a 400.
 */
export const UNDOCUMENTED_400_FOR_INVALID_REQUEST = 400;

/**
 * `POST /api/oauth/token` is not a path of the spec, only the `ServiceAccounts` scheme's
 * `tokenUrl`. Its answer is the one Atlas documents ("Generate an OAuth 2.0 access token"):
 * `{access_token, token_type: "Bearer", expires_in}`; refusals are RFC 6749 §5.2 errors.
 * `/api/oauth/revoke` (RFC 7009) answers 200 with an empty body.
 */
export const OAUTH_TOKEN_PATH = '/api/oauth/token';
export const OAUTH_REVOKE_PATH = '/api/oauth/revoke';

/** The spec, with the schema-level deviations above applied (only `UserCert.subject`). */
export const patchSpec = (spec: Json): Json => {
  const schemas = (spec.components as Json).schemas as Record<string, Json>;
  const subject = ((schemas.UserCert as Json).properties as Record<string, Json>).subject as Json;
  subject.pattern = `(?:${String(subject.pattern)})|(?:${SUBJECT_PATTERN_DEVIATION})`;
  return spec;
};

/** Every deviation, for the README's list and the unit test that keeps them named. */
export const DEVIATIONS = [
  'UserCert.subject: CN= only, no DC= parts',
  ID_INT64_DEVIATION,
  '429 errorCode: RATE_LIMITED or RATE_LIMITED_TOKEN_BUCKET',
  'create 201: raw PEM under a JSON content type',
  'Ratelimit-* on certificate answers, Retry-After on 429: required though the spec marks none',
  '406 INVALID_VERSION_DATE: undocumented per operation',
  '400 for a request outside the spec: undocumented on listDatabaseUsers',
  'OAuth token endpoint: not in the spec, checked against the documented answer',
] as const;
