import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../functions/cli/doctor.js';
import type { RunReport } from '../../functions/domain/report.js';
import { Harness, P1, P2, rowOf } from '../support/harness.js';

/**
 * `atlas-x509-rotator doctor` through the shipped CLI, against the simulator and moto_server.
 * Each case that doctor fails is also run for real (`rotate`): the two verdicts must agree.
 */

const run = promisify(execFile);
let h: Harness;
beforeEach(async () => {
  h = await Harness.start();
  h.sim.addUser(P1, 'app1');
});
afterEach(async () => h.close());

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

const doctor = async (
  config: string,
  env: Record<string, string> = h.atlasEnv,
  flags: string[] = [],
): Promise<Output> => {
  let result: Output;
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [String(process.env.ROTATOR_TEST_CLI), 'doctor', '--config', config, ...flags],
      // doctor names the account: moto's STS (only here, see tools/aws/moto.ts's awsEnvFor).
      {
        env: {
          ...process.env,
          AWS_ENDPOINT_URL_STS: String(process.env.AWS_ENDPOINT_URL_DYNAMODB),
          ...env,
        },
      },
    );
    result = { code: 0, stdout, stderr };
  } catch (err) {
    result = err as Output;
  }
  h.outputs.push(result.stdout, result.stderr);
  return result;
};

/** doctor --json, parsed. */
const doctorJson = async (config: string, env: Record<string, string> = h.atlasEnv) => {
  const out = await doctor(config, env, ['--json']);
  return { code: out.code, report: JSON.parse(out.stdout) as DoctorReport };
};

/** The real run's verdict: `rotate --json` through the same CLI. */
const rotate = async (config: string, env: Record<string, string> = h.atlasEnv) => {
  const out = await h.cli(['--config', config, '--json'], env);
  return { code: out.code, report: JSON.parse(out.stdout) as RunReport, stderr: out.stderr };
};

const lineOf = (stdout: string, name: string): string =>
  stdout.split('\n').find((l) => l.includes(`  ${name}`)) ?? `(no line for ${name})`;

const userOf = (report: DoctorReport, username: string) => {
  const found = report.users.find((u) => u.username === username);
  if (!found) throw new Error(`doctor predicted nothing for ${username}`);
  return found;
};

describe('doctor', () => {
  it('passes a deployment a real run would work with, one line a check, and changes nothing', async () => {
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
    );
    await h.seedDue(P1, 'app1', 20);
    const before = h.sim.requests.length;
    const { code, stdout } = await doctor(config);
    expect(stdout).toMatch(/^ok {4}Atlas credential: service account /m);
    // The credential is proven, not assumed: Atlas issued a token for it.
    expect(lineOf(stdout, 'Atlas credential')).toMatch(/Atlas issued a token/);
    expect(lineOf(stdout, 'AWS Region')).toMatch(/^ok .*us-east-1 \(from AWS_REGION\)/);
    expect(lineOf(stdout, 'AWS account')).toMatch(/^ok .*\b\d{12}\b/);
    expect(lineOf(stdout, 'endpoints')).toContain(`Atlas ${h.sim.baseUrl}`);
    expect(lineOf(stdout, 'endpoints')).toMatch(
      /DynamoDB http:\/\/[^ ]+ \(AWS_ENDPOINT_URL_DYNAMODB\)/,
    );
    expect(lineOf(stdout, `database users (${P1})`)).toMatch(
      /^ok .*1 users, 1 with Atlas-managed X\.509/,
    );
    expect(lineOf(stdout, `certificates (${P1}:app1)`)).toMatch(/^ok .*1 certificates listed/);
    expect(lineOf(stdout, `customer X.509 (${P1})`)).toMatch(/^ok .*no customer CA/);
    expect(lineOf(stdout, `lease table ${h.tableName}`)).toMatch(/^ok .*in us-east-1/);
    expect(lineOf(stdout, 'secrets under')).toMatch(
      /^ok .*1 secrets listed; .* read and decrypted/,
    );
    expect(lineOf(stdout, 'event bus default')).toMatch(/^ok /);
    expect(lineOf(stdout, `user ${P1}:app1`)).toMatch(/^ok .*would mint: /);
    expect(stdout).toMatch(/A real run would work/);
    expect(code).toBe(0);
    const methods = h.sim.requests.slice(before).map((r) => r.method);
    expect(methods.filter((m) => m !== 'GET' && m !== 'POST')).toEqual([]);
    expect(h.sim.count('POST', '/certs')).toBe(0);
  });

  it('--json: one document with findings, region, account, endpoints, users and verdict', async () => {
    h.sim.addUser(P2, 'found');
    const config = await h.writeConfig(
      h.config({
        projects: [
          { projectId: P1, users: ['app1'] },
          { projectId: P2, discover: true, users: [] },
        ],
      }),
    );
    const { code, report } = await doctorJson(config);
    expect(report).toMatchObject({ verdict: 'ok', region: 'us-east-1' });
    expect(report.account).toMatch(/^\d{12}$/);
    expect(report.endpoints.map((e) => e.service)).toEqual(
      expect.arrayContaining(['Atlas', 'Secrets Manager', 'DynamoDB', 'EventBridge', 'STS']),
    );
    for (const f of report.findings)
      expect(Object.keys(f)).toEqual(expect.arrayContaining(['name', 'status', 'detail']));
    // Discovery's users are predicted too, as the dry run finds them.
    expect(userOf(report, 'found')).toMatchObject({
      projectId: P2,
      configured: false,
      status: 'ok',
      action: 'planned',
    });
    expect(userOf(report, 'app1')).toMatchObject({ configured: true, status: 'ok' });
    expect(code).toBe(0);
    expect(h.sim.count('POST', '/certs')).toBe(0);
  });

  it('reads no secret whose read could hide applications that have not reloaded', async () => {
    const raw = h.config({ projects: [{ projectId: P1, users: ['app1'] }] });
    await h.seedDue(P1, 'app1', 5);
    // The rotation leaves the previous certificate as AWSPREVIOUS, read by no consumer since.
    expect(rowOf(await h.run(raw), 'app1').action).toBe('rotated');
    const { code, stdout } = await doctor(await h.writeConfig(raw));
    expect(lineOf(stdout, 'secrets under')).toMatch(
      /^ok .*1 secrets listed; none read: a read now could hide applications that have not reloaded/,
    );
    expect(code).toBe(0);
  });

  it('fails, with the remedy, on a missing lease table or a customer CA', async () => {
    h.sim.setCustomerCa(P1, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const config = await h.writeConfig({
      ...h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
      locks: { tableName: 'no-such-table' },
    });
    const { code, stdout } = await doctor(config);
    expect(lineOf(stdout, `customer X.509 (${P1})`)).toMatch(/^FAIL .*customer CA.*→ Remove/);
    expect(lineOf(stdout, 'lease table no-such-table')).toMatch(/^FAIL .*→ /);
    expect(stdout).toMatch(/2 checks failed: a real run would not work/);
    expect(code).toBe(1);
  });
});

describe("doctor's verdict is the run's", () => {
  it('a user whose x509Type is NONE: USER_NOT_MANAGED_X509 for that user', async () => {
    h.sim.addUser(P1, 'scram', { x509Type: 'NONE', databaseName: 'admin' });
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1', 'scram'] }] }),
    );
    const text = await doctor(config);
    expect(lineOf(text.stdout, `user ${P1}:scram`)).toMatch(
      /^FAIL .*would fail: USER_NOT_MANAGED_X509: .*→ Set x509Type MANAGED/,
    );
    expect(lineOf(text.stdout, `user ${P1}:app1`)).toMatch(/^ok /);
    expect(text.stdout).toMatch(/1 of 2 users would fail: a real run would not work\./);
    expect(text.code).toBe(1);
    const { code, report } = await doctorJson(config);
    expect(report.verdict).toBe('fail');
    expect(userOf(report, 'scram')).toMatchObject({
      status: 'fail',
      errorCode: 'USER_NOT_MANAGED_X509',
    });
    expect(code).toBe(1);
    // The same rows as `rotate --dry-run`: doctor's predictions are that dry run.
    const dry = await h.cli(['--config', config, '--dry-run', '--json']);
    const rows = (JSON.parse(dry.stdout) as RunReport).users;
    expect(report.users.map((u) => [u.username, u.action, u.errorCode])).toEqual(
      rows.map((r) => [r.username, r.action, r.errorCode]),
    );

    const real = await rotate(config);
    expect(rowOf(real.report, 'scram')).toMatchObject({
      action: 'failed',
      errorCode: 'USER_NOT_MANAGED_X509',
    });
    expect(rowOf(real.report, 'app1').action).toBe('rotated');
    expect(real.code).toBe(1);
  }, 90_000);

  it("a customer-CA project: every user fails with Atlas's refusal", async () => {
    h.sim.setCustomerCa(P1, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
    );
    const { code, report } = await doctorJson(config);
    expect(report.verdict).toBe('fail');
    expect(userOf(report, 'app1')).toMatchObject({
      status: 'fail',
      errorCode: 'CANNOT_GENERATE_CERT_IF_ADVANCED_X509',
    });
    expect(code).toBe(1);

    const real = await rotate(config);
    expect(rowOf(real.report, 'app1')).toMatchObject({
      action: 'failed',
      errorCode: 'CANNOT_GENERATE_CERT_IF_ADVANCED_X509',
    });
    expect(real.code).toBe(1);
  }, 90_000);

  it('a wrong client secret: the credential line fails, once, and nothing secret is printed', async () => {
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
    );
    const wrong = { ...h.atlasEnv, MONGODB_ATLAS_CLIENT_SECRET: 'not-the-secret-7f3a' };
    const text = await doctor(config, wrong);
    expect(lineOf(text.stdout, 'Atlas credential')).toMatch(
      /^FAIL .*rejected the service account credentials.*→ check or rotate the Atlas service account secret/,
    );
    // A rejected credential is said once, not again for every later Atlas check or user.
    expect(text.stdout.match(/rejected the service account/g)).toHaveLength(1);
    expect(lineOf(text.stdout, `user ${P1}:app1`)).toMatch(
      /^FAIL .*would fail: ATLAS_CREDENTIALS_REJECTED/,
    );
    expect(text.code).toBe(1);
    const { code, report } = await doctorJson(config, wrong);
    expect(report.verdict).toBe('fail');
    expect(report.findings.find((f) => f.name === 'Atlas credential')).toMatchObject({
      status: 'fail',
      code: 'ATLAS_CREDENTIALS_REJECTED',
    });
    expect(code).toBe(1);

    const real = await rotate(config, wrong);
    expect(real.report.error?.code).toBe('ATLAS_CREDENTIALS_REJECTED');
    expect(real.code).toBe(1);
    expect(h.leaks(['not-the-secret-7f3a'])).toEqual([]);
  }, 90_000);

  it('an API key: a Digest-signed read proves it, and a wrong private key fails the credential line', async () => {
    h.sim.addApiKey('pub-key-1', 'priv-api-key-secret-7f3a');
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
    );
    const key = {
      MONGODB_ATLAS_PUBLIC_API_KEY: 'pub-key-1',
      MONGODB_ATLAS_PRIVATE_API_KEY: 'priv-api-key-secret-7f3a',
    };
    const right = await doctor(config, key);
    expect(lineOf(right.stdout, 'Atlas credential')).toMatch(
      /^ok .*API key pub-key-1: Atlas answered a Digest-signed read/,
    );
    expect(right.code).toBe(0);
    const wrong = { ...key, MONGODB_ATLAS_PRIVATE_API_KEY: 'not-the-key-9c1d' };
    const text = await doctor(config, wrong);
    expect(lineOf(text.stdout, 'Atlas credential')).toMatch(
      /^FAIL .*rejected.*→ check or rotate the Atlas API key/,
    );
    expect(text.code).toBe(1);
    const real = await rotate(config, wrong);
    expect(real.report.error?.code).toBe('ATLAS_CREDENTIALS_REJECTED');
    expect(real.code).toBe(1);
    expect(h.leaks(['priv-api-key-secret-7f3a', 'not-the-key-9c1d'])).toEqual([]);
  }, 90_000);

  it('a wrong Region: the lease table and the KMS alias are not there, and every user would fail', async () => {
    // The key and its alias exist where the stack is (us-east-1), as the construct makes them.
    const alias = `alias/t${randomBytes(5).toString('hex')}`;
    const kms = new KMSClient({});
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
    await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: KeyMetadata?.KeyId }));
    h.sim.addUser(P2, 'found');
    const config = await h.writeConfig(
      h.config({
        defaults: { secretNamePrefix: h.prefix, kmsKeyId: alias },
        projects: [
          { projectId: P1, users: ['app1'] },
          { projectId: P2, discover: true, users: [] },
        ],
      }),
    );
    // In the right Region the alias resolves and all is well.
    const right = await doctor(config);
    expect(lineOf(right.stdout, `KMS key ${alias}`)).toMatch(
      /^ok .*resolves to arn:aws:kms:us-east-1:/,
    );
    expect(right.code).toBe(0);

    const west = { ...h.atlasEnv, AWS_REGION: 'us-west-2' };
    const text = await doctor(config, west);
    expect(lineOf(text.stdout, 'AWS Region')).toMatch(/us-west-2/);
    expect(lineOf(text.stdout, `lease table ${h.tableName}`)).toMatch(
      /^FAIL .*does not exist in us-west-2 \(account \d{12}\).*→ doctor looked in us-west-2 .*set AWS_REGION/,
    );
    expect(lineOf(text.stdout, `KMS key ${alias}`)).toMatch(/^FAIL .*does not exist in us-west-2/);
    for (const user of [`user ${P1}:app1`, `user ${P2}:found (discovered)`]) {
      expect(lineOf(text.stdout, user)).toMatch(/^FAIL .*would fail: LEASE_TABLE_MISSING/);
    }
    expect(text.stdout).not.toMatch(/A real run would work/);
    expect(text.code).toBe(1);
    const { code, report } = await doctorJson(config, west);
    expect(report).toMatchObject({ verdict: 'fail', region: 'us-west-2' });
    expect(report.users.every((u) => u.status === 'fail')).toBe(true);
    expect(code).toBe(1);

    const real = await rotate(config, west);
    expect(real.report.error?.code).toBe('LEASE_TABLE_MISSING');
    expect(real.report.users.every((u) => u.action === 'failed')).toBe(true);
    expect(real.code).toBe(1);
    expect(h.sim.count('POST', '/certs')).toBe(0);
  }, 90_000);
});
