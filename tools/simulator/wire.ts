/** The simulator's paths, media types, body reading and the JSON shapes it writes. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import type { CertRecord, DbUser } from './model.js';
import { ApiFailure, apiError, isoSeconds, type SimResponse } from './responses.js';

export const V2_PREFIX = '/api/atlas/v2/';
export const TOKEN_PATH = '/api/oauth/token';
export const REVOKE_PATH = '/api/oauth/revoke';
export const GROUP_ID = /^[a-f0-9]{24}$/;
export const MAX_BODY_BYTES = 1024 * 1024;
export const HOUR_MS = 60 * 60 * 1000;
export const DAY_MS = 24 * HOUR_MS;

/**
 * The writable part of `UserCert`. `default(3)` and `max(24)` are the spec's; `min(1)` is
 * Terraform's validation, since Atlas's behaviour for 0 or less is unconfirmed.
 */
export const CreateCertBody = z.object({
  monthsUntilExpiration: z.number().int().min(1).max(24).default(3),
});

/** Constant-time comparison of secrets of any length (hashing first equalises the lengths). */
export const safeEqual = (a: string, b: string): boolean =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

export const safeDecode = (text: string): string | undefined => {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
};

/** `/rateLimits` exists from version 2025-03-12 only. */
export const RATE_LIMITS_MEDIA_TYPE = 'application/vnd.atlas.2025-03-12+json';

/** Service-account endpoints exist from version 2024-08-05 only. */
export const SERVICE_ACCOUNT_MEDIA_TYPE = 'application/vnd.atlas.2024-08-05+json';

/** Whether the Accept header asks for the version a route has; others are not simulated. */
export const acceptsVersion = (accept: string | undefined, mediaType: string): boolean =>
  (accept ?? '').split(',').some((part) => part.split(';')[0]?.trim().toLowerCase() === mediaType);

export const certKey = (groupId: string, username: string): string => `${groupId}\u0000${username}`;

export const readBody = async (req: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new ApiFailure(apiError(413, 'TOO_LARGE', 'Body too large.'));
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
};

// --- Error responses (detail texts are plausible where Atlas's exact wording is unrecorded) ---

export const unauthorized = (headers: Record<string, string> = {}): SimResponse =>
  // Atlas's errorCode for a missing or bad credential is not recorded; UNAUTHORIZED mirrors the
  // reason phrase. [unconfirmed]
  apiError(401, 'UNAUTHORIZED', 'You are not authorized for this resource.', [], headers);

export const resourceNotFound = (path: string): SimResponse =>
  apiError(404, 'RESOURCE_NOT_FOUND', `Cannot find resource ${path}.`, [path]);

export const fail = (
  status: number,
  errorCode: string,
  detail: string,
  parameters: readonly unknown[] = [],
): ApiFailure => new ApiFailure(apiError(status, errorCode, detail, parameters));

/** RFC 4514-escaped `CN=` list item with `_id` written as a bare integer. */
export const certJson = (groupId: string, cert: CertRecord): string =>
  `{"_id":${cert.serial.toString(10)},"createdAt":"${isoSeconds(cert.notBefore)}",` +
  `"groupId":"${groupId}","notAfter":"${isoSeconds(cert.notAfter)}",` +
  `"subject":${JSON.stringify(cert.subject)}}`;

/** A `CloudDatabaseUser` with the fields this project cares about; keys in Atlas's (sorted) order. */
export const userJson = (groupId: string, user: DbUser): string =>
  JSON.stringify({
    awsIAMType: 'NONE',
    databaseName: user.databaseName,
    groupId,
    labels: [],
    ldapAuthType: 'NONE',
    oidcAuthType: 'NONE',
    roles: [],
    scopes: [],
    username: user.username,
    x509Type: user.x509Type,
  });
