import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  loadConfigFile,
  parseConfig,
  secretNameFor,
} from '../../functions/domain/config.js';

const P1 = '5e2211c17a3e5a48f5497de3';
const P2 = '6a1f00aa00bb00cc00dd00ee';

/** The example from the README, verbatim. */
const example = {
  atlas: {
    baseUrl: 'https://cloud.mongodb.com',
    credentialsSecretId: 'atlas-x509-rotator/atlas-api',
  },
  defaults: {
    monthsUntilExpiration: 3,
    secretNamePrefix: 'atlas-x509/',
    kmsKeyId: 'alias/atlas-x509',
  },
  locks: { tableName: 'atlas-x509-rotator-locks' },
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
        },
      ],
    },
    { projectId: P2, discover: true, exclude: ['legacy-batch'] },
  ],
};

const issuesOf = (input: unknown): string[] => {
  try {
    parseConfig(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
};

const withProject = (project: object) => ({ projects: [project] });

describe('config', () => {
  it('accepts the documented example and resolves defaults and secret names', () => {
    const config = parseConfig(example);
    expect(config.locks).toEqual({ tableName: 'atlas-x509-rotator-locks', leaseSeconds: 900 });
    expect(config.rotation).toEqual({
      concurrency: 64,
      orphanLimit: 2,
      orphanWindowDays: 7,
      criticalDays: 7,
      maxMintsPerWindow: 4,
      catchUpRuns: 24,
    });
    const [first, second] = config.projects;
    expect(first?.users).toEqual([
      {
        projectId: P1,
        username: 'app1',
        monthsUntilExpiration: 3,
        renewBeforeDays: undefined,
        secretName: `atlas-x509/${P1}/app1`,
        enabled: true,
        kmsKeyId: 'alias/atlas-x509',
        replicaRegions: [],
      },
      {
        projectId: P1,
        username: 'reporting',
        monthsUntilExpiration: 12,
        renewBeforeDays: 60,
        secretName: 'atlas-x509/reporting/x509',
        enabled: true,
        kmsKeyId: 'alias/atlas-x509',
        replicaRegions: [],
      },
    ]);
    expect(second?.discover).toBe(true);
    expect([...(second?.exclude ?? [])]).toEqual(['legacy-batch']);
  });

  it('needs only projects; everything else has defaults', () => {
    const config = parseConfig(withProject({ projectId: P1, users: ['a'] }));
    expect(config.atlas.baseUrl).toBe('https://cloud.mongodb.com');
    expect(config.defaults).toEqual({
      monthsUntilExpiration: 3,
      renewBeforeDays: undefined,
      secretNamePrefix: 'atlas-x509/',
      kmsKeyId: undefined,
      replicaRegions: [],
    });
  });

  it.each([
    [{ ...example, extra: 1 }, '(root): Unrecognized key: "extra"'],
    [{ projects: [] }, 'projects: must name at least one project'],
    [
      withProject({ projectId: 'XYZ', users: ['a'] }),
      'projects[0].projectId: must be a 24-character',
    ],
    [
      withProject({ projectId: P1, users: [{ username: 'a', monthsUntilExpiration: 25 }] }),
      'projects[0].users[0].monthsUntilExpiration: must be at most 24',
    ],
    [
      withProject({ projectId: P1, users: [{ username: 'a', monthsUntilExpiration: 0 }] }),
      'must be at least 1',
    ],
    [
      withProject({ projectId: P1, users: [{ username: 'a', monthsUntilExpiration: 1.5 }] }),
      'must be a whole number of months',
    ],
    [
      withProject({
        projectId: P1,
        users: [{ username: 'a', renewBeforeDays: 84, monthsUntilExpiration: 3 }],
      }),
      'projects[0].users[0].renewBeforeDays: must be shorter than 84 days',
    ],
    [
      withProject({ projectId: P1, users: ['a', 'a'] }),
      'projects[0].users[1]: user "a" is already listed at projects[0].users[0]',
    ],
    [
      withProject({ projectId: P1, users: [{ username: 'a', colour: 'red' }] }),
      'projects[0].users[0]: Unrecognized key: "colour"',
    ],
    [
      withProject({ projectId: P1 }),
      'projects[0]: names no users and does not set "discover": true',
    ],
    [
      withProject({ projectId: P1, users: ['a'], exclude: ['a'] }),
      'user "a" is both listed and excluded',
    ],
    [
      withProject({ projectId: P1, users: ['has space'] }),
      'projects[0].users[0]: must not contain whitespace',
    ],
    [
      { ...withProject({ projectId: P1, users: ['a'] }), atlas: { baseUrl: 'ftp://x' } },
      'atlas.baseUrl:',
    ],
    [
      {
        ...withProject({ projectId: P1, users: ['a'] }),
        atlas: { baseUrl: 'http://atlas-proxy.internal' },
      },
      'atlas.baseUrl: must use https (plain http is allowed only for loopback simulators',
    ],
    [
      { ...withProject({ projectId: P1, users: ['a'] }), locks: { tableName: 'x' } },
      'locks.tableName: must be a valid DynamoDB table name',
    ],
    [
      { ...withProject({ projectId: P1, users: ['a'] }), defaults: { renewBeforeDays: 90 } },
      'defaults.renewBeforeDays: must be shorter than 84 days',
    ],
  ])('rejects a bad field and names it: %#', (input, expected) => {
    expect(issuesOf(input).join('\n')).toContain(expected);
  });

  it('rejects a project listed twice', () => {
    expect(
      issuesOf({
        projects: [
          { projectId: P1, users: ['a'] },
          { projectId: P1, users: ['b'] },
        ],
      }),
    ).toContain(`projects[1].projectId: ${P1} is already configured at projects[0]`);
  });

  it('rejects two users landing on one secret name', () => {
    const issues = issuesOf(
      withProject({
        projectId: P1,
        users: [
          { username: 'a', secretName: 'shared' },
          { username: 'b', secretName: 'shared' },
        ],
      }),
    );
    expect(issues).toContain(
      `projects[0].users[1]: secret name "atlas-x509/shared" is already used by ${P1}:a`,
    );
  });

  it('catches a default window too long for a user with fewer months', () => {
    const issues = issuesOf({
      defaults: { renewBeforeDays: 40 },
      projects: [{ projectId: P1, users: [{ username: 'a', monthsUntilExpiration: 1 }] }],
    });
    expect(issues.join()).toContain(
      'projects[0].users[0].monthsUntilExpiration: with defaults.renewBeforeDays, must be shorter than 28 days',
    );
  });

  it('replaces characters a secret name cannot hold', () => {
    expect(secretNameFor('atlas-x509/', P1, 'svc.reporting+eu@corp')).toBe(
      `atlas-x509/${P1}/svc.reporting+eu@corp`,
    );
    expect(secretNameFor('atlas-x509/', P1, "o'brien#1")).toBe(`atlas-x509/${P1}/o-brien-1`);
  });

  it('loads a file and names it in errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cfg-'));
    const good = join(dir, 'good.json');
    await writeFile(good, JSON.stringify(example));
    expect((await loadConfigFile(good)).projects).toHaveLength(2);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{ not json');
    await expect(loadConfigFile(bad)).rejects.toThrow(`Invalid rotation config in ${bad}`);
    await expect(loadConfigFile(join(dir, 'missing.json'))).rejects.toThrow(
      'cannot read the file: ENOENT',
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
