import { z } from 'zod';
import { verifyUri } from '../verify-uri.js';
import { MAX_SECRET_NAME_LENGTH } from './secret-name.js';
import { unknownKeysMessage } from './suggestions.js';

/**
 * The one schema of the rotation config file. The functions read it at run time and `infra/`
 * validates it at synth time, so a bad config fails the same way everywhere, before any call.
 */

/** Every config object refuses unknown keys: a typo must not silently fall back to a default. */
const strict = <Shape extends z.ZodRawShape>(shape: Shape) =>
  z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? unknownKeysMessage(issue.keys, Object.keys(shape))
        : undefined,
  });

const projectId = z
  .string()
  .regex(/^[a-f0-9]{24}$/, 'must be a 24-character lowercase hexadecimal Atlas project id')
  .describe('24-hex Atlas project (group) id.');

// Atlas usernames for X.509 users become `CN=<username>`; keep them printable and bounded.
const username = z
  .string()
  .min(1, 'must not be empty')
  .max(1024)
  .regex(/^[^\s/\\]+$/, 'must not contain whitespace, "/" or "\\"')
  .describe('Atlas database username (no whitespace, "/" or "\\").');

const months = z
  .number()
  .int('must be a whole number of months')
  .min(1, 'must be at least 1')
  .max(24, 'must be at most 24 (the Atlas maximum)');

const renewBeforeDays = z
  .number()
  .int('must be a whole number of days')
  .min(1, 'must be at least 1');

const MONTHS_TEXT = 'Validity of new certificates in months, 1-24 (the Atlas maximum).';
const RENEW_TEXT =
  'Renew this many days before expiry; absent: when a third of the lifetime remains. Must be shorter than 28 days x monthsUntilExpiration.';

// Secrets Manager names hold letters, digits and /_+=.@- only.
const secretNamePart = z
  .string()
  .min(1)
  .max(MAX_SECRET_NAME_LENGTH)
  .regex(/^[A-Za-z0-9/_+=.@-]+$/, 'may only contain letters, digits and /_+=.@-');

// A Region code as AWS spells them (eu-west-1, us-gov-west-1, ap-southeast-5).
const awsRegion = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be an AWS Region code such as eu-west-1');

export const replicaRegionsSchema = z
  .array(
    z.union([
      awsRegion,
      strict({
        region: awsRegion,
        kmsKeyId: z
          .string()
          .min(1)
          .max(2048)
          .optional()
          .describe(
            "KMS key of the replica, in that Region (key id, key ARN, alias or alias ARN); default: that Region's AWS managed key aws/secretsmanager.",
          ),
      }),
    ]),
  )
  // The Regions are recorded in one tag value (256 characters).
  .max(10, 'must list at most 10 Regions');

const REPLICAS_TEXT =
  'Regions each secret is replicated to (Secrets Manager multi-Region secrets): a Region code, or {region, kmsKeyId}. Not the primary Region, no Region twice.';

export const userObject = strict({
  username,
  monthsUntilExpiration: months.optional().describe(`${MONTHS_TEXT} Default: the one in defaults.`),
  renewBeforeDays: renewBeforeDays
    .optional()
    .describe(`${RENEW_TEXT} Default: the one in defaults.`),
  secretName: secretNamePart
    .optional()
    .describe('Secret name under defaults.secretNamePrefix; default: <projectId>/<username>.'),
  replicaRegions: replicaRegionsSchema
    .optional()
    .describe(`${REPLICAS_TEXT} Default: the ones in defaults; [] for none.`),
  enabled: z
    .boolean()
    .default(true)
    .describe('false pauses rotation for this user; it is still reported.'),
});

const project = strict({
  projectId,
  users: z
    .array(z.union([username, userObject]))
    .default([])
    .describe('Users to rotate: a username, or an object with per-user overrides.'),
  discover: z
    .boolean()
    .default(false)
    .describe('Rotate every database user of the project whose x509Type is MANAGED.'),
  exclude: z
    .array(username)
    .default([])
    .describe('Usernames that discovery skips; a listed user must not be excluded.'),
  verify: strict({ uri: verifyUri })
    .optional()
    .describe(
      "Prove each new certificate can log in (MONGODB-X509, then ping) before it becomes AWSCURRENT; absent: no login check. The rotator's network must reach the cluster.",
    ),
});

/** Hosts whose traffic never leaves the machine: the only ones plain http may reach. */
const isLoopback = (hostname: string): boolean =>
  hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);

const nonEmpty = z.string().min(1);

/** Exported for the JSON Schema generator and its test; parse with `parseConfig`. */
export const rawConfig = strict({
  $schema: z.string().optional().describe('The JSON Schema of this file, for editors; ignored.'),
  atlas: strict({
    baseUrl: z
      .url({ protocol: /^https?$/ })
      .default('https://cloud.mongodb.com')
      .refine(
        // zod runs refinements after a failed format check too: leave that one its own issue.
        (url) =>
          !URL.canParse(url) || url.startsWith('https:') || isLoopback(new URL(url).hostname),
        'must use https (plain http is allowed only for loopback simulators: localhost, 127.0.0.0/8, [::1]); the client secret would travel in clear text',
      )
      .transform((url) => url.replace(/\/+$/, ''))
      // The refinement has no JSON Schema form: say it, the rotator checks it on load.
      .describe(
        'Atlas Admin API origin: https only (plain http only to loopback: localhost, 127.0.0.0/8, [::1]); a path prefix is kept.',
      ),
    credentialsSecretId: nonEmpty
      .optional()
      .describe('Secrets Manager secret holding the Atlas credential.'),
    disableCredentialsSecretId: nonEmpty
      .optional()
      .describe(
        'Project Owner credential for the disable operation; default: credentialsSecretId.',
      ),
    organizationId: z
      .string()
      .regex(/^[a-f0-9]{24}$/, 'must be a 24-character lowercase hexadecimal organization id')
      .optional()
      .describe(
        'With a service account: each run reads when its secret expires (needs the org id).',
      ),
  })
    .default({ baseUrl: 'https://cloud.mongodb.com' })
    .describe('Where and as whom to call Atlas.'),
  defaults: strict({
    monthsUntilExpiration: months.default(3).describe(MONTHS_TEXT),
    renewBeforeDays: renewBeforeDays.optional().describe(RENEW_TEXT),
    secretNamePrefix: z
      .string()
      .max(256)
      .regex(/^[A-Za-z0-9/_+=.@-]*$/, 'may only contain letters, digits and /_+=.@-')
      .default('atlas-x509/')
      .describe('Every secret lives under it, so IAM can be scoped to it.'),
    kmsKeyId: nonEmpty
      .optional()
      .describe('KMS key for new secrets; default: the AWS managed key.'),
    replicaRegions: replicaRegionsSchema.default([]).describe(REPLICAS_TEXT),
  })
    .default({ monthsUntilExpiration: 3, secretNamePrefix: 'atlas-x509/', replicaRegions: [] })
    .describe('Settings for every user unless the user overrides them.'),
  locks: strict({
    tableName: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a valid DynamoDB table name')
      .default('atlas-x509-rotator-locks')
      .describe('DynamoDB lease table.'),
    // A create and its store need 90 s of lease left, and the lease keeps a 30 s margin.
    leaseSeconds: z
      .number()
      .int()
      .min(180)
      .max(3600)
      .default(900)
      .describe("How long a crashed run's lease blocks a user."),
  })
    .default({ tableName: 'atlas-x509-rotator-locks', leaseSeconds: 900 })
    .describe('Per-user leases, so two runs never rotate one user at once.'),
  rotation: strict({
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(128)
      .default(64)
      .describe("Most users in flight; a run starts lower and paces itself by Atlas's headers."),
    orphanLimit: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(2)
      .describe('Refuse to mint for a user with this many orphans minted in the window.'),
    orphanWindowDays: z
      .number()
      .int()
      .min(1)
      .max(90)
      .default(7)
      .describe('The window, in days, of orphanLimit and maxMintsPerWindow.'),
    // An outage costs more than a few more capped certificates.
    criticalDays: z
      .number()
      .int()
      .min(1)
      .max(60)
      .default(7)
      .describe(
        'A user with no certificate or one expiring within this many days is minted once per run even past orphanLimit, up to maxMintsPerWindow.',
      ),
    // Atlas caps certificates per user: a fault that rejects every certificate must not burn
    // through that cap one run at a time.
    maxMintsPerWindow: z
      .number()
      .int()
      .min(1)
      .max(50)
      .default(4)
      .describe(
        'Certificates created for one user within orphanWindowDays, held or not, beyond which nothing more is minted, critical or not.',
      ),
    // Warned this many days ahead, a team has time to redeploy before the old certificate ends.
    staleConsumerDays: z
      .number()
      .int()
      .min(1)
      .max(60)
      .default(14)
      .describe(
        'Report a secret as consumers: "stale" (metric StaleConsumers) once the certificate its previous version holds expires within this many days and nobody read the secret after the day its current version was promoted.',
      ),
    catchUpRuns: z
      .number()
      .int()
      .min(0)
      .max(96)
      .default(24)
      .describe(
        'Catch-up runs in a row after a run that left users deferred (the catch-up schedule runs them); 0 turns them off.',
      ),
  })
    .default({
      concurrency: 64,
      orphanLimit: 2,
      orphanWindowDays: 7,
      criticalDays: 7,
      maxMintsPerWindow: 4,
      staleConsumerDays: 14,
      catchUpRuns: 24,
    })
    .describe('Pacing and the limits that keep a fault from minting without end.'),
  projects: z
    .array(project)
    .min(1, 'must name at least one project')
    .describe('Atlas projects and the users to rotate in each.'),
});

export type RawConfig = z.input<typeof rawConfig>;

/** A user entry written as an object (a bare username stands for `{ username }`). */
export type UserEntry = z.infer<typeof userObject>;

/** One entry of a replicaRegions list: a Region code, or `{ region, kmsKeyId }`. */
export type ReplicaEntry = z.infer<typeof replicaRegionsSchema>[number];
