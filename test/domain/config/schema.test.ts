import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../functions/domain/config/errors.js';
import { parseConfig } from '../../../functions/domain/config/resolve.js';

const SCHEMA_REF = './node_modules/atlas-x509-rotator/schema/rotation-config.schema.json';

const P1 = '5e2211c17a3e5a48f5497de3';

const minimal = { projects: [{ projectId: P1, users: ['a'] }] };

describe('config: $schema and unknown keys', () => {
  const issuesOf = (input: unknown): string => {
    try {
      parseConfig(input);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).issues.join('\n');
    }
    throw new Error('expected a ConfigError');
  };

  it('accepts $schema and leaves it out of the config', () => {
    const config = parseConfig({ $schema: SCHEMA_REF, ...minimal });
    expect(config).not.toHaveProperty('$schema');
    expect(config.projects).toHaveLength(1);
  });

  it.each([
    [
      { ...minimal, defualts: {} },
      '(root): Unrecognized key: "defualts" (did you mean "defaults"?)',
    ],
    [{ ...minimal, schema: 'x' }, '(root): Unrecognized key: "schema" (did you mean "$schema"?)'],
    [
      { projects: [{ projectId: P1, users: [{ username: 'a', monthsUntilExpiry: 3 }] }] },
      'projects[0].users[0]: Unrecognized key: "monthsUntilExpiry" (did you mean "monthsUntilExpiration"?)',
    ],
    [
      { projects: [{ projectId: P1, Discover: true }] },
      'projects[0]: Unrecognized key: "Discover" (did you mean "discover"?)',
    ],
    [
      { ...minimal, rotation: { concurency: 4 } },
      'rotation: Unrecognized key: "concurency" (did you mean "concurrency"?)',
    ],
  ])('suggests the key a typo meant: %#', (input, expected) => {
    const issues = issuesOf(input);
    expect(issues).toContain(expected);
    // With a suggestion for every key, the list of allowed keys would only be noise.
    expect(issues).not.toContain('allowed here');
  });

  it('reports a baseUrl that is no URL as a config error, not a crash', () => {
    expect(issuesOf({ ...minimal, atlas: { baseUrl: 'not a url' } })).toBe(
      'atlas.baseUrl: Invalid URL',
    );
  });

  it('lists the allowed keys when no key is close', () => {
    expect(
      issuesOf({ projects: [{ projectId: P1, users: [{ username: 'a', colour: 'red' }] }] }),
    ).toBe(
      'projects[0].users[0]: Unrecognized key: "colour"; allowed here: "username", "monthsUntilExpiration", "renewBeforeDays", "secretName", "replicaRegions", "enabled"',
    );
  });

  it('names each of several unknown keys', () => {
    expect(issuesOf({ ...minimal, defualts: {}, extra: 1 })).toContain(
      '(root): Unrecognized keys: "defualts" (did you mean "defaults"?), "extra"; allowed here: "$schema", "atlas", "defaults", "locks", "rotation", "projects"',
    );
  });
});

describe('config: plain http only to loopback', () => {
  it.each(['http://127.0.0.1:8080', 'http://localhost:9', 'http://[::1]:9', 'https://x.example'])(
    'accepts %s',
    (baseUrl) => {
      const config = parseConfig({
        projects: [{ projectId: P1, users: ['a'] }],
        atlas: { baseUrl },
      });
      expect(config.atlas.baseUrl).toBe(baseUrl);
    },
  );
  it.each(['http://10.0.0.5', 'http://127.0.0.1.evil.example', 'http://cloud.mongodb.com'])(
    'refuses %s',
    (baseUrl) => {
      expect(() =>
        parseConfig({ projects: [{ projectId: P1, users: ['a'] }], atlas: { baseUrl } }),
      ).toThrow(/atlas\.baseUrl: must use https/);
    },
  );
});
