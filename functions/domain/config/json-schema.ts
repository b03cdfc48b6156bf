import { z } from 'zod';
import { rawConfig } from './schema.js';

/** The `$id` of the config's JSON Schema: a name, not a location, so any copy of it fits. */
export const CONFIG_SCHEMA_ID = 'urn:atlas-x509-rotator:rotation-config';

/**
 * The JSON Schema of the config file as written (`io: 'input'`: fields with defaults are
 * optional), draft-07 because editors handle it best. Zod drops refinements and transforms
 * from it, so the description names the checks only the rotator makes. Anything else zod cannot
 * represent throws (its default), so a new field cannot slip out of the schema unnoticed.
 */
export const configJsonSchema = (): Record<string, unknown> => {
  const { $schema, ...body } = z.toJSONSchema(rawConfig, { io: 'input', target: 'draft-07' });
  return {
    $schema,
    $id: CONFIG_SCHEMA_ID,
    title: 'atlas-x509-rotator rotation config',
    description:
      'Generated from functions/domain/config/schema.ts by scripts/config-schema.ts: do not edit. ' +
      'The rotator also checks, when it loads the file: atlas.baseUrl uses https (http only to loopback); ' +
      'renewBeforeDays is shorter than 28 days x monthsUntilExpiration; no project, user in a project ' +
      'or secret name appears twice; every secret name, prefix included, fits in 512 characters; ' +
      'each project lists users or sets discover; no user is both listed and excluded; ' +
      'no replica Region appears twice in one list, none is the primary Region, and a replica key given as an ARN is in its Region; ' +
      "a project's verify.uri is a mongodb+srv:// or mongodb:// connection string without credentials or options that weaken TLS.",
    ...body,
  };
};
