import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunReport, STOPPED_REASON } from '../../functions/domain/report.js';
import { freePort } from '../../tools/aws/moto.js';
import { Harness, P1 } from '../support/harness.js';

/**
 * Misconfigurations of the AWS side, through the real CLI (the shipped bundle, a child process,
 * moto_server): each stops the run with one message that carries the SDK's own words and what
 * to change, and no user row repeats it. docs/troubleshooting.md lists the messages.
 */

let h: Harness;
beforeEach(async () => {
  h = await Harness.start();
});
afterEach(async () => h.close());

const USERS = ['app1', 'app2'];

/** Nothing of the machine's own AWS configuration may answer for what the test removes. */
const isolated = (): Record<string, string> => ({
  AWS_CONFIG_FILE: join(h.dir, 'no-aws-config'),
  AWS_SHARED_CREDENTIALS_FILE: join(h.dir, 'no-aws-credentials'),
  AWS_EC2_METADATA_DISABLED: 'true',
});

const stoppedRun = async (env: Record<string, string>) => {
  for (const u of USERS) h.sim.addUser(P1, u);
  const config = await h.writeConfig(h.config({ projects: [{ projectId: P1, users: USERS }] }));
  const result = await h.cli(['--config', config, '--json'], {
    ...h.atlasEnv,
    ...isolated(),
    ...env,
  });
  expect(result.code).toBe(1);
  const report = JSON.parse(result.stdout) as RunReport;
  // One message: in `error`, and nowhere in the rows.
  expect(report.users.map((u) => [u.username, u.action, u.reason, u.remedy])).toEqual(
    USERS.map((u) => [u, 'failed', STOPPED_REASON, undefined]),
  );
  const message = JSON.stringify(report.error?.message ?? '').slice(1, -1);
  expect(JSON.stringify(report).split(message)).toHaveLength(2);
  expect(h.sim.count('POST', '/certs')).toBe(0);
  return { report, result };
};

describe('CLI: run-wide AWS misconfigurations stop the run with one message', () => {
  it('no region', async () => {
    const { report } = await stoppedRun({ AWS_REGION: '', AWS_DEFAULT_REGION: 'eu-west-1' });
    expect(report.error).toMatchObject({
      code: 'AWS_REGION_MISSING',
      message: expect.stringMatching(/^No AWS region for Secrets Manager ListSecrets \(AWS SDK: /),
      remedy: expect.stringMatching(
        /^Set AWS_REGION .* AWS_DEFAULT_REGION is set, but the AWS SDK for JavaScript does not read it\.$/,
      ),
    });
    // The events would fail alike: not tried, not warned about a second time.
    expect(report.events).toEqual({
      skipped: 'the run stopped (AWS_REGION_MISSING); EventBridge would fail alike',
    });
  });

  it('no AWS credentials', async () => {
    const { report } = await stoppedRun({ AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' });
    expect(report.error).toMatchObject({
      code: 'AWS_CREDENTIALS_MISSING',
      message:
        'No AWS credentials for Secrets Manager ListSecrets (AWS SDK: Could not load credentials from any providers)',
      remedy: expect.stringMatching(/AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/),
    });
  });

  it('an endpoint nothing listens on, said once in the table too', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const { report } = await stoppedRun({ AWS_ENDPOINT_URL_DYNAMODB: closed });
    const message = `Cannot connect to ${closed} (AWS_ENDPOINT_URL_DYNAMODB) for DescribeTable (connect ECONNREFUSED ${closed.slice(7)})`;
    expect(report.error).toMatchObject({
      code: 'AWS_ENDPOINT_UNREACHABLE',
      message,
      remedy: expect.stringMatching(/^Check that AWS_ENDPOINT_URL_DYNAMODB is the address/),
    });
    const config = await h.writeConfig(h.config({ projects: [{ projectId: P1, users: USERS }] }));
    const table = await h.cli(['--config', config], {
      ...h.atlasEnv,
      AWS_ENDPOINT_URL_DYNAMODB: closed,
      POWERTOOLS_LOG_LEVEL: 'WARN',
    });
    expect(table.code).toBe(1);
    expect(`${table.stdout}${table.stderr}`.split(message)).toHaveLength(2);
  });
});

describe('CLI: a local run stays local', () => {
  it('publishes no event when only Secrets Manager and DynamoDB are local, and says so once', async () => {
    h.sim.addUser(P1, 'app1');
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
    );
    const result = await h.cli(['--config', config, '--json'], {
      ...h.atlasEnv,
      // As the README's local setup: only these two point at moto_server.
      AWS_ENDPOINT_URL_EVENTBRIDGE: '',
      AWS_ENDPOINT_URL: '',
      POWERTOOLS_LOG_LEVEL: 'WARN',
    });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as RunReport;
    expect(report.summary.rotated).toBe(1);
    expect(report.events).toEqual({
      skipped: expect.stringMatching(/not publishing to a real bus$/),
    });
    expect(result.stderr.match(/"message":"events not published"/g)).toHaveLength(1);
    // Had a publish been tried, it would have failed (dummy credentials, or no network).
    expect(result.stderr).not.toMatch(/could not publish events/);
  });

  it('publishes to the bus when EventBridge has an endpoint too, and names it', async () => {
    h.sim.addUser(P1, 'app1');
    const report = await h.run(h.config({ projects: [{ projectId: P1, users: ['app1'] }] }));
    expect(report.summary.rotated).toBe(1);
    expect(report.events).toEqual({ bus: 'default', published: 1, dropped: 0 });
  });
});
