/**
 * The checks of one exchange with the simulator against Atlas's contract (spec.ts, bent only
 * where deviations.ts says): the request as the Atlas client sent it, and the answer as the
 * simulator gave it. Each returns the violations found, as sentences; none means it conforms.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { parse as parseLosslessJson } from 'lossless-json';
import {
  CERTS_TEMPLATE,
  OAUTH_REVOKE_PATH,
  OAUTH_TOKEN_PATH,
  RATE_LIMIT_ERROR_CODES,
  RAW_PEM_CREATE,
  UNDOCUMENTED_400_FOR_INVALID_REQUEST,
  UNDOCUMENTED_406,
} from './deviations.js';
import { bareMediaType, type Contract, type Operation, versionOf } from './spec.js';

/** One request and the answer it got, as plain data (the simulator hook fills it). */
export interface Exchange {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer | string;
  response: { status: number; headers: Readonly<Record<string, string>>; body: string };
  /** An injected fault shaped the answer (faults are off-contract on purpose). */
  fault?: string | undefined;
}

/** The Atlas client names itself so (functions/adapters/atlas/transport.ts `USER_AGENT`). */
export const isClientRequest = (exchange: Exchange): boolean =>
  /^atlas-x509-rotator\//.test(header(exchange.headers, 'user-agent') ?? '');

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/**
 * JSON parsed without `JSON.parse`'s rounding: every integer's digits are checked against int64
 * before it becomes a JavaScript number (deviations.ts `ID_INT64_DEVIATION`).
 */
export const parseLossless = (text: string): { value: unknown; problems: string[] } => {
  const problems: string[] = [];
  const value = parseLosslessJson(text, null, (digits: string) => {
    if (/^-?\d+$/.test(digits)) {
      const big = BigInt(digits);
      if (big > INT64_MAX || big < INT64_MIN) problems.push(`integer ${digits} is beyond int64`);
    }
    return Number(digits);
  });
  return { value, problems };
};

const header = (
  headers: Readonly<Record<string, string | string[] | undefined>>,
  name: string,
): string | undefined => {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value.join(', ') : value;
  }
  return undefined;
};

const splitUrl = (url: string): { path: string; query: URLSearchParams } => {
  const at = url.indexOf('?');
  return {
    path: at === -1 ? url : url.slice(0, at),
    query: new URLSearchParams(at === -1 ? '' : url.slice(at + 1)),
  };
};

const errorsOf = (validate: ValidateFunction): string =>
  (validate.errors ?? [])
    .map((e: ErrorObject) => `${e.instancePath || '(root)'} ${e.message ?? ''}`.trim())
    .join('; ');

/** A query or path value as its schema's type, so `"24"` passes as an integer and `"x"` fails. */
const coerce = (raw: string, type: string | undefined): unknown => {
  if (type === 'integer' || type === 'number')
    return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  if (type === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  return raw;
};

const bodyText = (body: Buffer | string): string =>
  typeof body === 'string' ? body : body.toString('utf8');

// --- Requests ------------------------------------------------------------------------------------

/** The Atlas client's request: operation, parameters, `Accept`, `Content-Type` and body. */
export const checkRequest = (contract: Contract, exchange: Exchange): string[] => {
  const { path, query } = splitUrl(exchange.url);
  const where = `${exchange.method} ${path}`;
  if (path === OAUTH_TOKEN_PATH || path === OAUTH_REVOKE_PATH) {
    return checkOAuthRequest(exchange, path).map((v) => `${where}: ${v}`);
  }
  const found = contract.find(exchange.method, path);
  if (!found) return [`${where}: no operation of Atlas's spec has this method and path`];
  const { operation: op, params } = found;
  const violations: string[] = [];
  op.pathNames.forEach((name, i) => {
    const param = op.parameters.find((p) => p.in === 'path' && p.name === name);
    let value: string;
    try {
      value = decodeURIComponent(params[i] ?? '');
    } catch {
      violations.push(`path parameter ${name} is not valid percent-encoding`);
      return;
    }
    if (!param) violations.push(`path parameter ${name} is not documented`);
    else if (!param.validate(coerce(value, param.type))) {
      violations.push(
        `path parameter ${name}=${JSON.stringify(value)}: ${errorsOf(param.validate)}`,
      );
    }
  });
  for (const [name, raw] of query) {
    const param = op.parameters.find((p) => p.in === 'query' && p.name === name);
    if (!param) violations.push(`query parameter ${name} is not documented`);
    else if (!param.validate(coerce(raw, param.type))) {
      violations.push(
        `query parameter ${name}=${JSON.stringify(raw)}: ${errorsOf(param.validate)}`,
      );
    }
  }
  for (const param of op.parameters) {
    if (param.in === 'query' && param.required && !query.has(param.name)) {
      violations.push(`required query parameter ${param.name} is missing`);
    }
  }
  violations.push(...checkAccept(op, header(exchange.headers, 'accept')));
  violations.push(...checkRequestBody(op, exchange));
  return violations.map((v) => `${where} (${op.operationId}): ${v}`);
};

const checkAccept = (op: Operation, accept: string | undefined): string[] => {
  if (!accept) return ['no Accept header: Atlas needs a versioned media type'];
  const dates = accept
    .split(',')
    .map((part) => versionOf(bareMediaType(part)))
    .filter((date): date is string => date !== undefined);
  if (dates.length === 0) return [`Accept ${JSON.stringify(accept)} names no version date`];
  if (!dates.some((date) => op.versions.includes(date))) {
    return [`Accept version ${dates.join(', ')} is not one the operation has (${op.versions})`];
  }
  return [];
};

const checkRequestBody = (op: Operation, exchange: Exchange): string[] => {
  const text = bodyText(exchange.body);
  if (text.length === 0) {
    return op.requestBody?.required ? ['the operation requires a body; none was sent'] : [];
  }
  if (!op.requestBody) return ['a body was sent to an operation that takes none'];
  const type = bareMediaType(header(exchange.headers, 'content-type') ?? '');
  const validate = op.requestBody.content.get(type);
  if (!validate) {
    return [
      `Content-Type ${JSON.stringify(type)} is not one of ${[...op.requestBody.content.keys()]}`,
    ];
  }
  let parsed: { value: unknown; problems: string[] };
  try {
    parsed = parseLossless(text);
  } catch {
    return ['the body is not JSON'];
  }
  const violations = parsed.problems.map((p) => `body: ${p}`);
  if (!validate(parsed.value)) violations.push(`body: ${errorsOf(validate)}`);
  return violations;
};

/** The token request Atlas documents: client credentials, HTTP Basic, a form body. */
const checkOAuthRequest = (exchange: Exchange, path: string): string[] => {
  const violations: string[] = [];
  if (exchange.method !== 'POST') violations.push('the OAuth endpoints take POST only');
  if (!/^Basic\s+\S+$/i.test(header(exchange.headers, 'authorization') ?? '')) {
    violations.push('client credentials go in an Authorization: Basic header');
  }
  const type = bareMediaType(header(exchange.headers, 'content-type') ?? '');
  if (type !== 'application/x-www-form-urlencoded') {
    violations.push(`Content-Type ${JSON.stringify(type)}: a form is expected`);
  }
  const form = new URLSearchParams(bodyText(exchange.body));
  if (path === OAUTH_TOKEN_PATH && form.get('grant_type') !== 'client_credentials') {
    violations.push('grant_type must be client_credentials');
  }
  if (path === OAUTH_REVOKE_PATH && !form.get('token')) violations.push('no token to revoke');
  return violations;
};

// --- Answers -------------------------------------------------------------------------------------

/** The simulator's answer: a documented status, its media type, body and headers. */
export const checkAnswer = (contract: Contract, exchange: Exchange): string[] => {
  const { path } = splitUrl(exchange.url);
  const { status } = exchange.response;
  const where = `${exchange.method} ${path} -> ${status}`;
  if (path === OAUTH_TOKEN_PATH || path === OAUTH_REVOKE_PATH) {
    return checkOAuthAnswer(exchange, path).map((v) => `${where}: ${v}`);
  }
  const found = contract.find(exchange.method, path);
  if (!found) {
    // A path Atlas does not have: still an error in Atlas's own shape.
    if (status < 400) return [`${where}: a success for a path the spec does not have`];
    return checkApiError(contract, exchange).map((v) => `${where}: ${v}`);
  }
  const op = found.operation;
  const violations: string[] = [];
  const documented = op.responses.get(String(status)) ?? op.responses.get('default');
  if (!documented) {
    const deviation =
      status === UNDOCUMENTED_406.status ||
      (status === UNDOCUMENTED_400_FOR_INVALID_REQUEST &&
        checkRequest(contract, exchange).length > 0);
    if (!deviation) violations.push(`status ${status} is not documented for the operation`);
  }
  if (status >= 400) {
    violations.push(...checkApiError(contract, exchange));
  } else if (documented) {
    violations.push(...checkSuccessBody(op, exchange, documented.content));
  }
  const headers = exchange.response.headers;
  for (const [name, validate] of documented?.headers ?? []) {
    const value = header(headers, name);
    if (value !== undefined && !validate(coerce(value, 'integer'))) {
      violations.push(`header ${name}: ${JSON.stringify(value)} is not an integer`);
    }
  }
  if (op.template === CERTS_TEMPLATE && status < 300) {
    for (const name of ['ratelimit-limit', 'ratelimit-remaining']) {
      if (header(headers, name) === undefined) violations.push(`no ${name} header`);
    }
  }
  if (status === 429) {
    const retryAfter = header(headers, 'retry-after');
    if (retryAfter === undefined) violations.push('a 429 without Retry-After');
    else if (!/^\d+$/.test(retryAfter)) violations.push(`Retry-After ${retryAfter} is not seconds`);
  }
  return violations.map((v) => `${where} (${op.operationId}): ${v}`);
};

const checkSuccessBody = (
  op: Operation,
  exchange: Exchange,
  content: ReadonlyMap<string, ValidateFunction>,
): string[] => {
  const { body, headers } = exchange.response;
  if (content.size === 0) return body.length === 0 ? [] : ['a body where the spec documents none'];
  const type = bareMediaType(header(headers, 'content-type') ?? '');
  const validate = content.get(type);
  if (!validate)
    return [`Content-Type ${JSON.stringify(type)} is not one of ${[...content.keys()]}`];
  const violations: string[] = [];
  const asked = (header(exchange.headers, 'accept') ?? '').split(',').map(bareMediaType);
  if (!asked.includes(type)) violations.push(`answered ${type}, which the Accept did not ask for`);
  if (op.method === RAW_PEM_CREATE.method && op.template === RAW_PEM_CREATE.template) {
    // deviations.ts RAW_PEM_CREATE: the string is sent raw, not as a JSON string.
    if (!validate(body) || !body.startsWith('-----BEGIN CERTIFICATE-----\n')) {
      violations.push('the create answer is not a raw PEM certificate');
    }
    return violations;
  }
  let parsed: { value: unknown; problems: string[] };
  try {
    parsed = parseLossless(body);
  } catch {
    return [...violations, 'the body is not JSON'];
  }
  violations.push(...parsed.problems.map((p) => `body: ${p}`));
  if (!validate(parsed.value)) violations.push(`body: ${errorsOf(validate)}`);
  return violations;
};

/** An error answer: `application/json` and an `ApiError` whose `error` is the status. */
const checkApiError = (contract: Contract, exchange: Exchange): string[] => {
  const { status, headers, body } = exchange.response;
  const type = bareMediaType(header(headers, 'content-type') ?? '');
  if (type !== 'application/json') {
    return [`an error under ${JSON.stringify(type)}, not application/json`];
  }
  let value: unknown;
  try {
    value = parseLossless(body).value;
  } catch {
    return ['an error body that is not JSON'];
  }
  const validate = contract.schema('ApiError');
  if (!validate(value)) return [`not an ApiError: ${errorsOf(validate)}`];
  const error = value as { error: number; errorCode: string };
  const violations: string[] = [];
  if (error.error !== status) violations.push(`ApiError.error ${error.error} is not the status`);
  if (status === 429 && !RATE_LIMIT_ERROR_CODES.has(error.errorCode)) {
    violations.push(`a 429 with errorCode ${error.errorCode}`);
  }
  if (status === UNDOCUMENTED_406.status && error.errorCode !== UNDOCUMENTED_406.errorCode) {
    violations.push(`a 406 with errorCode ${error.errorCode}`);
  }
  if (status === 401) {
    // The DigestAuth scheme: a challenge, when there is one, must be one a Digest client can answer.
    const challenge = header(headers, 'www-authenticate');
    if (challenge !== undefined && !/^Digest\s.*realm="[^"]*".*nonce="[^"]+"/i.test(challenge)) {
      violations.push(`WWW-Authenticate ${JSON.stringify(challenge)} is not a Digest challenge`);
    }
  }
  return violations;
};

/** The documented token answer, an RFC 6749 §5.2 error, or revoke's empty 200. */
const checkOAuthAnswer = (exchange: Exchange, path: string): string[] => {
  const { status, headers, body } = exchange.response;
  if (path === OAUTH_REVOKE_PATH && status === 200) return [];
  const type = bareMediaType(header(headers, 'content-type') ?? '');
  if (type !== 'application/json') return [`Content-Type ${JSON.stringify(type)}, not JSON`];
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return ['a body that is not JSON'];
  }
  if (status === 200) {
    const violations: string[] = [];
    if (typeof value.access_token !== 'string' || value.access_token === '') {
      violations.push('no access_token');
    }
    if (typeof value.token_type !== 'string' || value.token_type.toLowerCase() !== 'bearer') {
      violations.push(`token_type ${JSON.stringify(value.token_type)}, not Bearer`);
    }
    if (!Number.isInteger(value.expires_in) || (value.expires_in as number) <= 0) {
      violations.push(`expires_in ${JSON.stringify(value.expires_in)}, not seconds`);
    }
    return violations;
  }
  if (status !== 400 && status !== 401) return [`status ${status}: not a documented OAuth answer`];
  return typeof value.error === 'string' ? [] : ['an OAuth error without `error`'];
};
