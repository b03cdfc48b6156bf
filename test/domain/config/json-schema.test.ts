import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CONFIG_SCHEMA_ID,
  configJsonSchema,
} from '../../../functions/domain/config/json-schema.js';
import { parseConfig } from '../../../functions/domain/config/resolve.js';
import { rawConfig } from '../../../functions/domain/config/schema.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SCHEMA_FILE = join(ROOT, 'schema/rotation-config.schema.json');
const SCRIPT = join(ROOT, 'scripts/config-schema.ts');
const REGENERATE = 'npx tsx scripts/config-schema.ts';
const SCHEMA_REF = './node_modules/atlas-x509-rotator/schema/rotation-config.schema.json';

const P1 = '5e2211c17a3e5a48f5497de3';

type Schema = { [keyword: string]: unknown };

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));
const schema = configJsonSchema();

/**
 * Just the JSON Schema keywords the generated schema uses, checked as editors do (ECMA regexes
 * with the `u` flag). No validator is a dependency; an unknown keyword fails the test, so the
 * schema cannot grow a keyword this silently ignores.
 */
const ANNOTATIONS = ['$schema', '$id', 'title', 'description', 'default'];
const KEYWORDS = new Set([
  ...ANNOTATIONS,
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'anyOf',
  'minItems',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'minimum',
  'maximum',
]);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const TYPES: Record<string, (v: unknown) => boolean> = {
  object: isObject,
  array: Array.isArray,
  string: (v) => typeof v === 'string',
  boolean: (v) => typeof v === 'boolean',
  integer: Number.isInteger,
};

const stringErrors = (s: Schema, v: string, at: string): string[] => [
  ...(typeof s.minLength === 'number' && v.length < s.minLength ? [`${at}: too short`] : []),
  ...(typeof s.maxLength === 'number' && v.length > s.maxLength ? [`${at}: too long`] : []),
  ...(typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(v)
    ? [`${at}: does not match ${s.pattern}`]
    : []),
  ...(s.format === 'uri' && !URL.canParse(v) ? [`${at}: not a URI`] : []),
];

const numberErrors = (s: Schema, v: number, at: string): string[] => [
  ...(typeof s.minimum === 'number' && v < s.minimum ? [`${at}: below ${s.minimum}`] : []),
  ...(typeof s.maximum === 'number' && v > s.maximum ? [`${at}: above ${s.maximum}`] : []),
];

const objectErrors = (s: Schema, v: Record<string, unknown>, at: string): string[] => {
  const properties = (s.properties ?? {}) as Record<string, Schema>;
  const missing = ((s.required ?? []) as string[]).filter((k) => !(k in v));
  const extra =
    s.additionalProperties === false ? Object.keys(v).filter((k) => !properties[k]) : [];
  return [
    ...missing.map((k) => `${at}.${k}: required`),
    ...extra.map((k) => `${at}.${k}: not allowed`),
    ...Object.entries(v).flatMap(([k, child]) => {
      const sub = properties[k];
      return sub ? errorsOf(sub, child, `${at}.${k}`) : [];
    }),
  ];
};

const arrayErrors = (s: Schema, v: unknown[], at: string): string[] => [
  ...(typeof s.minItems === 'number' && v.length < s.minItems ? [`${at}: too few items`] : []),
  ...(s.items ? v.flatMap((item, i) => errorsOf(s.items as Schema, item, `${at}[${i}]`)) : []),
];

function errorsOf(s: Schema, v: unknown, at = '$'): string[] {
  const unknown = Object.keys(s).filter((k) => !KEYWORDS.has(k));
  if (unknown.length > 0) throw new Error(`${at}: the test validator lacks ${unknown.join()}`);
  if (Array.isArray(s.anyOf)) {
    const branches = (s.anyOf as Schema[]).map((branch) => errorsOf(branch, v, at));
    if (!branches.some((b) => b.length === 0)) return branches.flat();
  }
  const type = s.type as string | undefined;
  if (type !== undefined && !TYPES[type]?.(v)) return [`${at}: not ${type}`];
  if (typeof v === 'string') return stringErrors(s, v, at);
  if (typeof v === 'number') return numberErrors(s, v, at);
  if (Array.isArray(v)) return arrayErrors(s, v, at);
  if (isObject(v)) return objectErrors(s, v, at);
  return [];
}

/** Every object level, by a path both walks spell alike: `.key`, `[]` for items, `|i` for a branch. */
type Level = { keys: string[]; required: string[]; closed: boolean };

const zodLevels = (s: z.ZodType, at = '$', out = new Map<string, Level>()): Map<string, Level> => {
  if (s instanceof z.ZodDefault || s instanceof z.ZodOptional) {
    zodLevels(s.unwrap() as z.ZodType, at, out);
  } else if (s instanceof z.ZodPipe) zodLevels(s.in as z.ZodType, at, out);
  else if (s instanceof z.ZodArray) zodLevels(s.element as z.ZodType, `${at}[]`, out);
  else if (s instanceof z.ZodUnion) {
    for (const [i, option] of s.options.entries())
      zodLevels(option as z.ZodType, `${at}|${i}`, out);
  } else if (s instanceof z.ZodObject) {
    const shape = s.shape as Record<string, z.ZodType>;
    const keys = Object.keys(shape);
    out.set(at, {
      keys,
      // A key is required when the object cannot do without it.
      required: keys.filter((k) => !shape[k]?.safeParse(undefined).success),
      closed: s.def.catchall instanceof z.ZodNever,
    });
    for (const k of keys) zodLevels(shape[k] as z.ZodType, `${at}.${k}`, out);
  }
  return out;
};

const jsonLevels = (s: Schema, at = '$', out = new Map<string, Level>()): Map<string, Level> => {
  if (Array.isArray(s.anyOf)) {
    for (const [i, branch] of (s.anyOf as Schema[]).entries())
      jsonLevels(branch, `${at}|${i}`, out);
  }
  if (isObject(s.items)) jsonLevels(s.items, `${at}[]`, out);
  if (isObject(s.properties)) {
    const properties = s.properties as Record<string, Schema>;
    out.set(at, {
      keys: Object.keys(properties),
      required: (s.required ?? []) as string[],
      closed: s.additionalProperties === false,
    });
    for (const [k, sub] of Object.entries(properties)) jsonLevels(sub, `${at}.${k}`, out);
  }
  return out;
};

/** A config that uses every field, with the `$schema` an editor would see. */
const everyField = {
  $schema: SCHEMA_REF,
  atlas: {
    baseUrl: 'http://127.0.0.1:8080',
    credentialsSecretId: 'atlas-x509-rotator/atlas-api',
    disableCredentialsSecretId: 'atlas-x509-rotator/atlas-owner',
    organizationId: '6a1f00aa00bb00cc00dd00ff',
  },
  defaults: {
    monthsUntilExpiration: 6,
    renewBeforeDays: 30,
    secretNamePrefix: 'team/x509/',
    kmsKeyId: 'alias/atlas-x509-rotator',
  },
  locks: { tableName: 'locks', leaseSeconds: 600 },
  rotation: {
    concurrency: 8,
    orphanLimit: 3,
    orphanWindowDays: 14,
    criticalDays: 10,
    maxMintsPerWindow: 6,
  },
  projects: [
    {
      projectId: P1,
      users: [
        'app1',
        {
          username: 'reporting',
          monthsUntilExpiration: 12,
          renewBeforeDays: 60,
          secretName: 'reporting/x509',
          enabled: false,
        },
      ],
      discover: true,
      exclude: ['legacy-batch'],
    },
  ],
};

const minimal = { projects: [{ projectId: P1, users: ['a'] }] };

describe('config JSON Schema', () => {
  it('is committed as generated from the zod schema', () => {
    expect(
      readJson(SCHEMA_FILE),
      `schema/rotation-config.schema.json is stale: run \`${REGENERATE}\` and commit it`,
    ).toEqual(schema);
  });

  it('is draft-07 with an id, a title and a description', () => {
    expect(schema).toMatchObject({
      $schema: 'http://json-schema.org/draft-07/schema#',
      $id: CONFIG_SCHEMA_ID,
      title: expect.any(String),
      description: expect.stringContaining('do not edit'),
    });
  });

  it('has every key zod accepts, at every level, required and closed alike', () => {
    const zod = zodLevels(rawConfig);
    expect(jsonLevels(schema)).toEqual(zod);
    expect([...zod.values()].every((level) => level.closed)).toBe(true);
    expect(zod.get('$')?.keys).toContain('$schema');
  });

  it('keeps the patterns and bounds', () => {
    const levels = schema.properties as Record<string, Schema>;
    const project = (levels.projects as Schema).items as Schema;
    expect((project.properties as Record<string, Schema>).projectId).toMatchObject({
      pattern: '^[a-f0-9]{24}$',
    });
    const defaults = (levels.defaults as Schema).properties as Record<string, Schema>;
    expect(defaults.monthsUntilExpiration).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: 24,
      default: 3,
    });
  });

  it.each([
    ['infra/example.config.json', readJson(join(ROOT, 'infra/example.config.json'))],
    ['the minimal config', minimal],
    ['every field, with $schema', everyField],
    ['the minimal config with $schema', { ...minimal, $schema: SCHEMA_REF }],
  ])('accepts %s, as zod does', (_name, config) => {
    expect(errorsOf(schema, config)).toEqual([]);
    expect(() => parseConfig(config)).not.toThrow();
  });

  const withUser = (user: object) => ({ projects: [{ projectId: P1, users: [user] }] });
  it.each([
    ['a typo at the root', { ...minimal, defualts: {} }, '$.defualts: not allowed'],
    ['a bad project id', { projects: [{ projectId: 'XYZ', users: ['a'] }] }, 'does not match'],
    ['no project', { projects: [] }, '$.projects: too few items'],
    ['too many months', withUser({ username: 'a', monthsUntilExpiration: 25 }), 'above 24'],
    ['part months', withUser({ username: 'a', monthsUntilExpiration: 1.5 }), 'not integer'],
    ['a user key typo', withUser({ username: 'a', monthsUntilExpiry: 3 }), 'not allowed'],
    ['a username with a space', withUser({ username: 'a b' }), 'does not match'],
    ['a short lock table', { ...minimal, locks: { tableName: 'x' } }, 'does not match'],
    ['a non-URL baseUrl', { ...minimal, atlas: { baseUrl: 'not a url' } }, 'not a URI'],
    ['a non-string $schema', { ...minimal, $schema: 1 }, '$.$schema: not string'],
  ])('refuses %s, as zod does', (_name, config, expected) => {
    expect(errorsOf(schema, config).join('\n')).toContain(expected);
    expect(rawConfig.safeParse(config).success).toBe(false);
  });

  it('leaves the checks it cannot express to the rotator, and says so', () => {
    // Passes the JSON Schema: the https rule is a zod refinement, not representable.
    const cleartext = { ...minimal, atlas: { baseUrl: 'http://atlas-proxy.internal' } };
    expect(errorsOf(schema, cleartext)).toEqual([]);
    expect(() => parseConfig(cleartext)).toThrow(/atlas\.baseUrl: must use https/);
    expect(schema.description).toContain('atlas.baseUrl uses https');
  });
});

describe('scripts/config-schema.ts --check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'config-schema-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (file: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, '--check', file], {
      cwd: ROOT,
      encoding: 'utf8',
    });

  it('passes on the committed file', () => {
    const result = run(SCHEMA_FILE);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('fails on a stale file and says how to fix it', () => {
    const stale = join(dir, 'stale.json');
    writeFileSync(stale, JSON.stringify({ ...schema, title: 'old' }));
    const result = run(stale);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`is out of date`);
    expect(result.stderr).toContain(`Run \`${REGENERATE}\``);
  });
});
