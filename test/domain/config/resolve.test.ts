import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../functions/domain/config/errors.js';
import { parseConfig } from '../../../functions/domain/config/resolve.js';
import { secretNameFor } from '../../../functions/domain/config/secret-name.js';

const P1 = '5e2211c17a3e5a48f5497de3';

import { example } from './example.js';

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
      staleConsumerDays: 14,
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
        kmsKeyId: 'alias/atlas-x509-rotator',
        replicaRegions: [],
      },
      {
        projectId: P1,
        username: 'reporting',
        monthsUntilExpiration: 12,
        renewBeforeDays: 60,
        secretName: 'atlas-x509/reporting/x509',
        enabled: true,
        kmsKeyId: 'alias/atlas-x509-rotator',
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
});
