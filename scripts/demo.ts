/**
 * `npm run demo`: the main job end to end on the embedded simulators. Starts moto_server and
 * the Atlas simulator on free loopback ports, seeds four users, runs the real CLI twice, prints
 * both reports, and cleans up. Needs no AWS or Atlas account.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secretNameFor } from '../functions/domain/config/secret-name.js';
import { awsEnvFor, type MotoServer, startMoto } from '../tools/aws/moto.js';
import { AtlasSimulator } from '../tools/simulator/atlas-simulator.js';
import { requirePrerequisites } from './prerequisites.js';

const APP = '5e2211c17a3e5a48f5497de3';
const DISCOVERED = '6a1f00aa00bb00cc00dd00ee';
const DAY = 86_400_000;

// Bold headings on a terminal only, as the CLI colours (NO_COLOR, pipes: plain).
const bold = process.stdout.isTTY && process.env.NO_COLOR === undefined;
const say = (text: string): void => {
  process.stdout.write(bold ? `\n\x1b[1m== ${text}\x1b[0m\n` : `\n== ${text}\n`);
};

const main = async (): Promise<number> => {
  let moto: MotoServer | undefined;
  let sim: AtlasSimulator | undefined;
  // moto_server or Node missing: one line naming it and its install command, nothing started.
  if (!(await requirePrerequisites('npm run demo'))) return 1;
  const dir = await mkdtemp(join(tmpdir(), 'atlas-x509-demo-'));
  try {
    say('Starting moto_server (Secrets Manager + DynamoDB) and the Atlas simulator');
    moto = await startMoto();
    // The CLI and the seeding below reach moto through the SDK's standard variables.
    Object.assign(process.env, awsEnvFor(moto.endpoint), {
      // The SDK warns once per process that its 2027 releases need Node 22: noise in a demo.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    const clientId = 'mdb_sa_id_demo';
    const clientSecret = randomBytes(24).toString('base64url');
    sim = await AtlasSimulator.start({ serviceAccounts: [{ clientId, clientSecret }] });
    console.log(`moto_server:      ${moto.endpoint}`);
    console.log(`Atlas simulator:  ${sim.baseUrl} (service account ${clientId})`);

    // Imported after the environment points the SDK at moto.
    const { createLeaseTable, seedSecret } = await import('../tools/aws/seed.js');
    const prefix = 'atlas-x509/';
    const tableName = 'atlas-x509-rotator-locks';
    await createLeaseTable(tableName);

    say('Seeding Atlas users and Secrets Manager');
    sim.addProject(APP);
    sim.addProject(DISCOVERED);
    for (const user of ['app1', 'billing', 'reporting']) sim.addUser(APP, user);
    sim.addUser(DISCOVERED, 'etl');
    sim.addUser(DISCOVERED, 'legacy-batch');
    sim.addUser(DISCOVERED, 'analyst', { x509Type: 'NONE', databaseName: 'admin' });

    const now = Date.now();
    const expiring = await sim.mintCertificate(APP, 'billing', {
      notBefore: new Date(now - 85 * DAY),
      notAfter: new Date(now + 5 * DAY),
    });
    await seedSecret(
      secretNameFor(prefix, APP, 'billing'),
      { projectId: APP, username: 'billing' },
      expiring,
    );
    const healthy = await sim.mintCertificate(APP, 'reporting', { months: 3 });
    await seedSecret(
      secretNameFor(prefix, APP, 'reporting'),
      { projectId: APP, username: 'reporting' },
      healthy,
    );
    console.log(`${APP}/app1       no secret yet`);
    console.log(`${APP}/billing    certificate ${expiring.serialNumber} expires in 5 days`);
    console.log(`${APP}/reporting  certificate ${healthy.serialNumber} is healthy (3 months)`);
    console.log(
      `${DISCOVERED}/*   discovered: etl (MANAGED), legacy-batch (excluded), analyst (not X.509)`,
    );

    const configPath = join(dir, 'rotation.config.json');
    await writeFile(
      configPath,
      JSON.stringify(
        {
          atlas: { baseUrl: sim.baseUrl },
          defaults: { monthsUntilExpiration: 3, secretNamePrefix: prefix },
          locks: { tableName },
          projects: [
            { projectId: APP, users: ['app1', 'billing', 'reporting'] },
            { projectId: DISCOVERED, discover: true, exclude: ['legacy-batch'] },
          ],
        },
        null,
        2,
      ),
    );

    const { runCli } = await import('../tools/cli.js');
    const atlasEnv = {
      MONGODB_ATLAS_CLIENT_ID: clientId,
      MONGODB_ATLAS_CLIENT_SECRET: clientSecret,
    };
    let failed = false;
    for (const [title, args] of [
      ['Dry run: what would happen', ['--dry-run']],
      ['Rotation run', []],
      ['Second run: nothing is due any more', []],
    ] as const) {
      say(`${title}  (npm run --silent rotate -- --config rotation.config.json ${args.join(' ')})`);
      const result = await runCli('rotate', ['--config', configPath, ...args], atlasEnv);
      process.stdout.write(result.stdout);
      if (result.stderr.trim()) process.stderr.write(result.stderr);
      if (result.code !== 0) failed = true;
    }
    console.log(
      `\nAtlas saw ${sim.count('POST', '/certs')} certificate creations and ${sim.stats.tokensIssued} OAuth token requests.`,
    );
    await showWhatAnApplicationReads(secretNameFor(prefix, APP, 'app1'));
    return failed ? 1 : 0;
  } finally {
    await sim?.close();
    await moto?.stop();
    await rm(dir, { recursive: true, force: true });
  }
};

/**
 * The last screen: what an application reads, as it reads it (AWSCURRENT from Secrets Manager).
 * The private key is never printed: only that the field is there.
 */
const showWhatAnApplicationReads = async (secretName: string): Promise<void> => {
  const { GetSecretValueCommand, SecretsManagerClient } = await import(
    '@aws-sdk/client-secrets-manager'
  );
  say(`What an application reads: ${secretName} (AWSCURRENT)`);
  const client = new SecretsManagerClient({});
  try {
    const read = await client.send(new GetSecretValueCommand({ SecretId: secretName }));
    const value = JSON.parse(read.SecretString ?? '{}') as Record<string, unknown>;
    const cert = new X509Certificate(String(value.certificate));
    console.log(`secret:       ${secretName} (version ${read.VersionId})`);
    console.log(`JSON fields:  ${Object.keys(value).join(', ')}`);
    console.log(`subject:      ${cert.subject.replaceAll('\n', ', ')}`);
    console.log(`serial:       ${String(value.serialNumber)} (hex ${cert.serialNumber})`);
    console.log(`notAfter:     ${new Date(cert.validTo).toISOString()}`);
    console.log('privateKey:   present, never printed');
    console.log('\nRead it in your account with the AWS CLI:');
    console.log(
      `  aws secretsmanager get-secret-value --secret-id '${secretName}' --query SecretString --output text`,
    );
  } finally {
    client.destroy();
  }
};

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
