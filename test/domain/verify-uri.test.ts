import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/domain/config/errors.js';
import { parseConfig } from '../../functions/domain/config/resolve.js';
import { verifyUriProblems } from '../../functions/domain/verify-uri.js';

const P1 = '5e2211c17a3e5a48f5497de3';

const withUri = (uri: unknown) => ({
  projects: [{ projectId: P1, users: ['app1'], verify: { uri } }],
});

const issuesOf = (input: unknown): string[] => {
  try {
    parseConfig(input);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
};

describe('config: a project verify.uri', () => {
  it.each([
    'mongodb+srv://cluster0.ab1cd.mongodb.net/',
    'mongodb+srv://cluster0.ab1cd.mongodb.net/?retryWrites=true&w=majority&appName=Cluster0',
    'mongodb://a.example.net:27017,b.example.net:27017/?replicaSet=atlas-x&tls=true',
    'mongodb://localhost:27017/?directConnection=true&tlsCAFile=%2Ftmp%2Fca.pem',
    'mongodb+srv://c.example.net/?authMechanism=MONGODB-X509&authSource=%24external',
  ])('accepts %s', (uri) => {
    expect(parseConfig(withUri(uri)).projects[0]?.verify).toEqual({ uri });
  });

  it('is absent unless set: no project checks logins by default', () => {
    expect(
      parseConfig({ projects: [{ projectId: P1, users: ['app1'] }] }).projects[0]?.verify,
    ).toBeUndefined();
  });

  it.each([
    ['https://cluster0.example.net/', 'must be a mongodb+srv:// or mongodb:// connection string'],
    ['mongodb://', 'must name at least one host'],
    ['mongodb://a,,b/', 'must name at least one host'],
    ['mongodb+srv://a.example.net:27017/', 'mongodb+srv:// takes exactly one host name'],
    ['mongodb+srv://a.example.net/?authMechanism=SCRAM-SHA-256', 'option authMechanism: must be'],
    ['mongodb://a/?authSource=admin', 'option authSource: must be $external'],
    ['mongodb://a/?tls=false', 'option tls: must be true'],
    ['mongodb://a/?tlsInsecure=true', 'option tlsInsecure: must be false'],
    ['mongodb://a/?TLSALLOWINVALIDCERTIFICATES=true', 'must be false if given'],
    ['mongodb://a/?tlsCertificateKeyFile=%2Fk.pem', 'the check presents the new certificate'],
    ['mongodb://a/?authMechanismProperties=AWS_SESSION_TOKEN:x', 'may carry credentials'],
    [`mongodb://a/${'x'.repeat(2100)}`, 'must be at most 2048 characters'],
  ])('refuses %s', (uri, problem) => {
    const issues = issuesOf(withUri(uri));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^projects\[0\]\.verify\.uri: /);
    expect(issues[0]).toContain(problem);
  });

  it('refuses credentials without repeating them', () => {
    const issues = issuesOf(withUri('mongodb+srv://app:s3cr3t-pw@cluster0.example.net/'));
    expect(issues).toEqual([
      'projects[0].verify.uri: must not contain credentials (user:password@): the check logs in with the new certificate',
    ]);
    expect(issues.join()).not.toContain('s3cr3t');
  });

  it('names every bad option at once, and refuses an unknown key beside uri', () => {
    expect(verifyUriProblems('mongodb://a/?tlsInsecure=true&sslPEMKeyPassword=pw')).toEqual([
      'option tlsInsecure: must be false if given (a check that trusts any server proves nothing)',
      'option sslPEMKeyPassword: not allowed here (is a credential; the check presents the new certificate itself)',
    ]);
    expect(
      issuesOf({
        projects: [{ projectId: P1, users: ['app1'], verify: { uri: 'mongodb://a/', timeout: 5 } }],
      }),
    ).toEqual([expect.stringMatching(/^projects\[0\]\.verify: Unrecognized key: "timeout"/)]);
    expect(issuesOf(withUri(42))).toEqual([expect.stringMatching(/^projects\[0\]\.verify\.uri: /)]);
  });
});
