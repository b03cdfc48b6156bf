import { z } from 'zod';

/**
 * Zod schemas for every response shape the Atlas client reads. Objects use zod's default
 * `strip`: fields Atlas adds later are dropped, never rejected.
 */

/** An ISO 8601 timestamp, as Atlas writes them (`2026-08-10T02:06:35Z`), turned into a Date. */
const isoDate = z.iso.datetime({ offset: true }).transform((text) => new Date(text));

/** A certificate serial: `json.ts` hands over safe integers as numbers, larger ones as strings. */
const decimalSerial = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)])
  .transform((value) => String(value));

const linkSchema = z.object({ href: z.string(), rel: z.string() });

/** Atlas's `ApiError` body, sent with every 4xx/5xx. */
export const apiErrorSchema = z.object({
  error: z.number().int(),
  errorCode: z.string().min(1),
  detail: z.string().nullish(),
  reason: z.string().nullish(),
  parameters: z.array(z.unknown()).nullish(),
  badRequestDetail: z
    .object({
      fields: z.array(z.object({ field: z.string(), description: z.string() })).optional(),
    })
    .nullish(),
});
export type ApiError = z.infer<typeof apiErrorSchema>;

/** The OAuth 2.0 client-credentials token response of `POST /api/oauth/token`. */
export const oauthTokenSchema = z.object({
  access_token: z.string().min(1),
  token_type: z
    .string()
    .regex(/^bearer$/i)
    .optional(),
  expires_in: z.number().positive(),
});
export type OAuthToken = z.infer<typeof oauthTokenSchema>;

/** One Atlas-managed certificate (`UserCert`); `_id` is the serial number in decimal. */
export const userCertSchema = z
  .object({
    _id: decimalSerial,
    createdAt: isoDate,
    notAfter: isoDate,
    subject: z.string(),
    groupId: z.string(),
  })
  .transform(({ _id, ...rest }) => ({ serialNumber: _id, ...rest }));
export type UserCert = z.infer<typeof userCertSchema>;

/** The page envelope shared by Atlas list endpoints. */
const paginated = <T extends z.ZodType>(item: T) =>
  z.object({
    results: z.array(item),
    totalCount: z.number().int().nonnegative().optional(),
    links: z.array(linkSchema).optional(),
  });

/** `PaginatedUserCertView`: one page of a user's unexpired certificates. */
export const userCertPageSchema = paginated(userCertSchema);
export type UserCertPage = z.infer<typeof userCertPageSchema>;

/** The fields of `CloudDatabaseUser` the rotator needs. */
export const databaseUserSchema = z.object({
  username: z.string(),
  databaseName: z.string(),
  x509Type: z.enum(['NONE', 'CUSTOMER', 'MANAGED']).default('NONE'),
  groupId: z.string(),
});
export type DatabaseUser = z.infer<typeof databaseUserSchema>;

/** One page of `GET /groups/{groupId}/databaseUsers`. */
export const databaseUserPageSchema = paginated(databaseUserSchema);
export type DatabaseUserPage = z.infer<typeof databaseUserPageSchema>;

/** `UserSecurity`: the project's customer CA (self-managed X.509) and LDAP settings. */
export const userSecuritySchema = z.object({
  customerX509: z
    .object({
      cas: z
        .string()
        .nullish()
        .transform((value) => value ?? undefined)
        .optional(),
    })
    .default({}),
  // Passed through as Atlas sent it: the rotator only reports it.
  ldap: z.looseObject({}).optional(),
});
export type UserSecurity = z.infer<typeof userSecuritySchema>;

/** `OrgServiceAccount` (version 2024-08-05): only what the expiry check needs. */
export const serviceAccountSchema = z.object({
  clientId: z.string(),
  secrets: z
    .array(
      z.object({
        id: z.string(),
        expiresAt: isoDate,
        /** e.g. `mdb_sa_sk_...abcd`: Atlas shows only the last characters. */
        maskedSecretValue: z.string().optional(),
      }),
    )
    .default([]),
});

export type ServiceAccount = z.infer<typeof serviceAccountSchema>;

const limitValue = z.object({ value: z.number() }).partial().optional();

/** `RateLimitEndpointSetResponse` (version 2025-03-12): one endpoint set's token bucket. */
export const rateLimitSchema = z.object({
  endpointSetId: z.string().optional(),
  endpointSetName: z.string().optional(),
  endpoints: z.array(z.object({ method: z.string(), path: z.string() }).partial()).optional(),
  capacity: limitValue,
  refillRate: limitValue,
  refillDurationSeconds: limitValue,
  /** `IP`, `GROUP`, `ORGANIZATION` or `USER`. */
  scope: z.string().optional(),
});
export type RateLimit = z.infer<typeof rateLimitSchema>;

/** `GET /rateLimits`: `PaginatedRateLimitEndpointSets`. */
export const rateLimitsSchema = z.object({ results: z.array(rateLimitSchema) });

/**
 * A 429 `RATE_LIMITED_TOKEN_BUCKET`'s parameters, as its detail reads them ("retry after 55
 * seconds. Request capacity: 10. Refill rate: 5 per 60 seconds"): endpoint set, seconds,
 * capacity, refill rate, refill duration in seconds.
 */
export const rateLimitedParametersSchema = z
  .tuple([
    z.string(),
    z.number(),
    z.number().positive(),
    z.number().positive(),
    z.number().positive(),
  ])
  .rest(z.unknown());
