import type { z } from 'zod';
import { type CallSpec, callOf } from './call.js';
import { AtlasApiError, AtlasResponseError } from './errors.js';
import type { RawResponse } from './http.js';
import { parseJson } from './json.js';
import { apiErrorSchema } from './schemas.js';

/**
 * Reading Atlas's answers: a 2xx body against its schema, an error body as Atlas's `ApiError`.
 * Neither ever echoes a body: messages name the status, the content type and the size.
 */

/** A short, non-secret description of a body we will not echo. */
const describeBody = (res: RawResponse): string => {
  const type = String(res.headers['content-type'] ?? 'no content type')
    .split(';')[0]
    ?.trim()
    .slice(0, 60);
  return `${type}, ${Buffer.byteLength(res.text)} bytes`;
};

/** The 2xx body, parsed losslessly and checked against the endpoint's schema. */
export const parseBody = <T>(spec: CallSpec, res: RawResponse, schema: z.ZodType<T>): T => {
  let json: unknown;
  try {
    json = parseJson(res.text);
  } catch {
    throw new AtlasResponseError(spec, `the ${res.status} body is not JSON (${describeBody(res)})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.code}`);
    throw new AtlasResponseError(
      spec,
      `the ${res.status} body does not match: ${issues.join('; ')}`,
    );
  }
  return parsed.data;
};

/** The `ApiError` of an error response, or a generic one when the body is not an ApiError. */
export const apiErrorOf = (spec: CallSpec, res: RawResponse): AtlasApiError => {
  let body: unknown;
  try {
    body = parseJson(res.text);
  } catch {
    body = undefined;
  }
  const parsed = apiErrorSchema.safeParse(body);
  if (parsed.success) {
    const { errorCode, detail, reason, parameters } = parsed.data;
    return new AtlasApiError({
      ...callOf(spec),
      status: res.status,
      errorCode,
      detail: detail ?? reason ?? '',
      parameters: parameters ?? [],
    });
  }
  return new AtlasApiError({
    ...callOf(spec),
    status: res.status,
    errorCode: `HTTP_${res.status}`,
    detail: `no Atlas error body (${describeBody(res)})`,
  });
};
