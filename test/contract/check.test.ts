import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadRecorded } from '../support/recorded.js';
import { checkAnswer, checkRequest, type Exchange, parseLossless } from './check.js';
import { DEVIATIONS } from './deviations.js';
import { loadContract, SPEC_FILE } from './spec.js';

const contract = loadContract();
const GROUP = 'b0123456789abcdef012345b';
const CERTS = `/api/atlas/v2/groups/${GROUP}/databaseUsers/user389/certs`;
const V1 = 'application/vnd.atlas.2023-01-01+json';
const UA = 'atlas-x509-rotator/0.1.0';

const apiError = (status: number, errorCode: string, headers: Record<string, string> = {}) => ({
  status,
  headers: { 'Content-Type': 'application/json', ...headers },
  body: JSON.stringify({ detail: 'x', error: status, errorCode, parameters: [], reason: 'x' }),
});

/** A request of the client and an answer; each test spoils one part. */
const exchange = (over: Partial<Exchange> = {}): Exchange => ({
  method: 'GET',
  url: `${CERTS}?pageNum=1&itemsPerPage=500`,
  headers: { accept: V1, 'user-agent': UA },
  body: '',
  response: loadRecorded('list-certs.http'),
  ...over,
});

const createRequest = (body: string, headers: Record<string, string> = {}): Exchange =>
  exchange({
    method: 'POST',
    url: CERTS,
    headers: { accept: V1, 'content-type': V1, 'user-agent': UA, ...headers },
    body,
    response: loadRecorded('create-cert.http'),
  });

describe('the vendored spec', () => {
  it('names its source and license, and holds the eight paths the client calls', () => {
    const text = readFileSync(SPEC_FILE, 'utf8');
    expect(text).toMatch(
      /^# .*\n# Source: github\.com\/mongodb\/atlas-sdk-go, openapi\/atlas-api-transformed\.yaml at commit [0-9a-f]{40}/m,
    );
    expect(text).toMatch(/License: Apache-2\.0/);
    expect(Object.keys(parse(text).paths)).toHaveLength(8);
    expect(contract.find('GET', CERTS)?.operation.template).toBe(
      '/api/atlas/v2/groups/{groupId}/databaseUsers/{username}/certs',
    );
  });
});

describe('recorded Atlas answers', () => {
  it('conform, with the named deviations', () => {
    expect(checkAnswer(contract, exchange())).toEqual([]);
    expect(checkAnswer(contract, createRequest('{"monthsUntilExpiration":3}'))).toEqual([]);
  });

  it('need each deviation: the spec alone rejects CN=user389, and JSON.parse rounds the _id', () => {
    const spec = parse(readFileSync(SPEC_FILE, 'utf8'));
    const pattern = spec.components.schemas.UserCert.properties.subject.pattern as string;
    expect(new RegExp(pattern, 'u').test('CN=user389')).toBe(false);
    const { body } = loadRecorded('list-certs.http');
    expect(String(JSON.parse(body).results[1]._id)).not.toBe('1976722359483124370');
    expect(parseLossless(body).problems).toEqual([]);
    expect(DEVIATIONS.length).toBeGreaterThanOrEqual(4);
  });
});

describe('answers that break the contract fail', () => {
  it('a required field dropped', () => {
    const body = JSON.stringify({ links: [], totalCount: 0 });
    const response = { ...loadRecorded('list-certs.http'), body };
    expect(checkAnswer(contract, exchange({ response })).join()).toMatch(
      /must have required property 'results'/,
    );
  });

  it('an error outside ApiError: another shape, or not JSON', () => {
    const notApiError = {
      status: 404,
      headers: { 'Content-Type': 'application/json' },
      body: '{"message":"no"}',
    };
    expect(checkAnswer(contract, exchange({ response: notApiError })).join()).toMatch(
      /not an ApiError/,
    );
    const html = { status: 500, headers: { 'Content-Type': 'text/html' }, body: '<h1>500</h1>' };
    expect(checkAnswer(contract, exchange({ response: html })).join()).toMatch(
      /not application\/json/,
    );
  });

  it('a 429 without Retry-After, or with a code Atlas does not use', () => {
    expect(
      checkAnswer(
        contract,
        exchange({ response: apiError(429, 'RATE_LIMITED_TOKEN_BUCKET') }),
      ).join(),
    ).toMatch(/without Retry-After/);
    for (const code of ['RATE_LIMITED', 'RATE_LIMITED_TOKEN_BUCKET']) {
      const response = apiError(429, code, { 'Retry-After': '7' });
      expect(checkAnswer(contract, exchange({ response }))).toEqual([]);
    }
    const other = apiError(429, 'TOO_MANY', { 'Retry-After': '7' });
    expect(checkAnswer(contract, exchange({ response: other })).join()).toMatch(
      /errorCode TOO_MANY/,
    );
  });

  it('an undocumented status, missing rate-limit headers, an _id beyond int64, a media type not asked for', () => {
    expect(checkAnswer(contract, exchange({ response: apiError(418, 'TEAPOT') })).join()).toMatch(
      /status 418 is not documented/,
    );
    const recorded = loadRecorded('list-certs.http');
    const { 'ratelimit-remaining': _, ...headers } = recorded.headers;
    expect(checkAnswer(contract, exchange({ response: { ...recorded, headers } })).join()).toMatch(
      /no ratelimit-remaining/,
    );
    const huge = {
      ...recorded,
      body: recorded.body.replace('1976722359483124370', '19767223594831243700'),
    };
    expect(checkAnswer(contract, exchange({ response: huge })).join()).toMatch(/beyond int64/);
    const otherVersion = exchange({
      headers: { accept: 'application/vnd.atlas.2099-01-01+json', 'user-agent': UA },
    });
    expect(checkAnswer(contract, otherVersion).join()).toMatch(/did not ask for/);
  });

  it('a 400 where none is documented, unless the request itself was outside the spec', () => {
    const users = `/api/atlas/v2/groups/${GROUP}/databaseUsers`;
    const refused = apiError(400, 'INVALID_QUERY_PARAMETER');
    const fine = exchange({ url: `${users}?itemsPerPage=3`, response: refused });
    expect(checkAnswer(contract, fine).join()).toMatch(/status 400 is not documented/);
    const outside = exchange({ url: `${users}?itemsPerPage=501`, response: refused });
    expect(checkAnswer(contract, outside)).toEqual([]);
  });

  it('a create answer that is not a raw PEM certificate', () => {
    const spoiled = createRequest('{"monthsUntilExpiration":3}');
    spoiled.response = { ...spoiled.response, body: '"-----BEGIN CERTIFICATE-----"' };
    expect(checkAnswer(contract, spoiled).join()).toMatch(/not a raw PEM/);
  });

  it('a 401 whose challenge a Digest client cannot answer; a Digest challenge passes', () => {
    const basic = apiError(401, 'UNAUTHORIZED', { 'WWW-Authenticate': 'Basic realm="x"' });
    expect(checkAnswer(contract, exchange({ response: basic })).join()).toMatch(
      /not a Digest challenge/,
    );
    const digest = apiError(401, 'UNAUTHORIZED', {
      'WWW-Authenticate':
        'Digest realm="MMS Public API", domain="", nonce="abc", algorithm=MD5, qop="auth", stale=false',
    });
    expect(checkAnswer(contract, exchange({ response: digest }))).toEqual([]);
  });

  it('a token answer without expires_in; the documented one passes', () => {
    const token = (body: object) =>
      exchange({
        method: 'POST',
        url: '/api/oauth/token',
        response: {
          status: 200,
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        },
      });
    expect(
      checkAnswer(contract, token({ access_token: 'a', token_type: 'Bearer' })).join(),
    ).toMatch(/expires_in/);
    expect(
      checkAnswer(contract, token({ access_token: 'a', token_type: 'Bearer', expires_in: 3600 })),
    ).toEqual([]);
  });
});

describe("the client's requests that break the contract fail", () => {
  it('a well-formed create and list pass', () => {
    expect(checkRequest(contract, createRequest('{"monthsUntilExpiration":3}'))).toEqual([]);
    expect(checkRequest(contract, exchange())).toEqual([]);
  });

  it('monthsUntilExpiration as a string, or above 24', () => {
    expect(checkRequest(contract, createRequest('{"monthsUntilExpiration":"3"}')).join()).toMatch(
      /monthsUntilExpiration must be integer/,
    );
    expect(checkRequest(contract, createRequest('{"monthsUntilExpiration":25}')).join()).toMatch(
      /must be <= 24/,
    );
  });

  it('a path the spec lacks', () => {
    const url = `/api/atlas/v2/groups/${GROUP}/databaseUsers/user389/certs/latest`;
    expect(checkRequest(contract, exchange({ url })).join()).toMatch(
      /no operation of Atlas's spec/,
    );
    expect(checkRequest(contract, exchange({ method: 'PUT' })).join()).toMatch(/no operation/);
  });

  it('an undated Accept, a version the operation lacks, a body under another type', () => {
    const undated = exchange({ headers: { accept: 'application/json', 'user-agent': UA } });
    expect(checkRequest(contract, undated).join()).toMatch(/names no version date/);
    const wrong = exchange({
      headers: { accept: 'application/vnd.atlas.2025-03-12+json', 'user-agent': UA },
    });
    expect(checkRequest(contract, wrong).join()).toMatch(/not one the operation has/);
    const json = createRequest('{"monthsUntilExpiration":3}', {
      'content-type': 'application/json',
    });
    expect(checkRequest(contract, json).join()).toMatch(/Content-Type "application\/json"/);
  });

  it('path and query parameters outside their schemas', () => {
    const badGroup = exchange({ url: '/api/atlas/v2/groups/NOTHEX/databaseUsers/u/certs' });
    expect(checkRequest(contract, badGroup).join()).toMatch(/groupId="NOTHEX": .*pattern/);
    const page = exchange({ url: `${CERTS}?itemsPerPage=501&sort=asc` });
    expect(checkRequest(contract, page).join()).toMatch(
      /itemsPerPage="501".*query parameter sort is not documented/,
    );
  });

  it('a token request without client credentials', () => {
    const token = exchange({
      method: 'POST',
      url: '/api/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': UA },
      body: 'grant_type=client_credentials',
    });
    expect(checkRequest(contract, token).join()).toMatch(/Authorization: Basic/);
  });
});
