import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../functions/domain/report.js';
import { buildLib } from '../../scripts/build.js';
import { Harness, P1 } from '../support/harness.js';

/**
 * The package as an adopter gets it: `npm pack`, installed into an empty app beside aws-cdk-lib
 * and constructs, used from plain JavaScript (CommonJS, as `cdk init --language javascript`
 * writes), and its bin run from that install with the machine's Node (the shebang's).
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

interface TemplateResource {
  Type: string;
  Properties: { Handler?: string; Runtime?: string; Code: { S3Key: string } };
}

let work: string;
let app: string;
let packed: { filename: string; files: { path: string }[] };

/** A command in the adopter's app, with the machine's own Node and npm on PATH. */
const inApp = (file: string, args: string[], env: Record<string, string> = {}) =>
  run(file, args, { cwd: app, env: { ...process.env, ...env }, timeout: 90_000 });

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'atlas-x509-pack-'));
  app = join(work, 'app');
  // The bundles are fresh (test setup); the library and its types are built here, as prepack
  // would, and the pack skips prepack so it does not rebuild what other tests are loading.
  await buildLib();
  const { stdout } = await run(
    'npm',
    ['pack', '--ignore-scripts', '--json', '--pack-destination', work, '--loglevel=error'],
    { cwd: ROOT },
  );
  [packed] = JSON.parse(stdout);
  await run('mkdir', [app]);
  const dependency = (name: string) => `file:${join(ROOT, 'node_modules', name)}`;
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'adopter',
      private: true,
      dependencies: {
        'aws-cdk-lib': dependency('aws-cdk-lib'),
        constructs: dependency('constructs'),
        // The consumer's peers, as an application has them.
        mongodb: dependency('mongodb'),
        '@aws-sdk/client-secrets-manager': dependency('@aws-sdk/client-secrets-manager'),
        // What an adopter runs over the construct (#24.5).
        'cdk-nag': dependency('cdk-nag'),
        'atlas-x509-rotator': `file:${join(work, packed.filename)}`,
      },
    }),
  );
  await inApp('npm', [
    'install',
    '--prefer-offline',
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
  ]);
}, 180_000);
afterAll(() => rm(work, { recursive: true, force: true }));

describe('the packed tarball', () => {
  it('ships the compiled library with types, the prebuilt handlers, the bin and the schema', () => {
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/lib/infra/index.js',
        'dist/lib/infra/index.d.ts',
        'dist/assets/rotate/index.mjs',
        'dist/assets/rotate/index.mjs.map',
        'dist/assets/rotate/login-check.mjs',
        'dist/assets/disable-customer-x509/index.mjs',
        'dist/cli/atlas-x509-rotator.mjs',
        'dist/consumer/index.mjs',
        'dist/consumer/index.cjs',
        'dist/lib/functions/consumer/index.d.ts',
        'dist/lib/functions/consumer/index.d.cts',
        'schema/rotation-config.schema.json',
        'LICENSE',
        'README.md',
        'package.json',
      ]),
    );
    const unwanted = files.filter(
      (f) =>
        /^(test|scripts|functions|infra|examples|node_modules|cdk\.out)\//.test(f) ||
        /\.test\.|\.ts$|rotation\.config\.json$|cdk\.json$|\.env/.test(f.replace(/\.d\.ts$/, '')),
    );
    expect(unwanted).toEqual([]);
  });

  it('installs with zod as its one dependency, aws-cdk-lib and constructs as peers', () => {
    const manifest = JSON.parse(
      readFileSync(join(app, 'node_modules/atlas-x509-rotator/package.json'), 'utf8'),
    );
    expect(Object.keys(manifest.dependencies)).toEqual(['zod']);
    // The consumer's two peers are optional: a CDK app that only deploys needs neither.
    const optional = Object.keys(manifest.peerDependenciesMeta ?? {}).sort();
    expect(optional).toEqual(['@aws-sdk/client-secrets-manager', 'mongodb']);
    expect(
      Object.keys(manifest.peerDependencies)
        .filter((name) => !optional.includes(name))
        .sort(),
    ).toEqual(['aws-cdk-lib', 'constructs']);
    expect(readdirSync(join(app, 'node_modules')).sort()).toEqual(
      expect.arrayContaining(['atlas-x509-rotator', 'aws-cdk-lib', 'constructs', 'zod']),
    );
  });
});

describe('a plain JavaScript CDK app that uses the construct', () => {
  it('synthesizes examples/cdk-app, each function carrying its prebuilt handler and the config', async () => {
    // The example as it is in the repository: its app and its config, nothing adapted.
    const example = join(ROOT, 'examples/cdk-app');
    await cp(join(example, 'bin'), join(app, 'bin'), { recursive: true });
    await cp(join(example, 'rotation.config.json'), join(app, 'rotation.config.json'));
    const exampleConfig = JSON.parse(readFileSync(join(example, 'rotation.config.json'), 'utf8'));
    await inApp('node', ['bin/app.js'], { CDK_OUTDIR: join(app, 'cdk.out') });
    const template = JSON.parse(
      readFileSync(join(app, 'cdk.out/AtlasX509Rotation.template.json'), 'utf8'),
    );
    const functions = Object.values(template.Resources as Record<string, TemplateResource>).filter(
      (r) => r.Type === 'AWS::Lambda::Function',
    );
    expect(functions).toHaveLength(2);
    const shipped = (name: string) =>
      readFileSync(join(app, 'node_modules/atlas-x509-rotator/dist/assets', name, 'index.mjs'));
    const bundles = functions.map((fn) => {
      expect(fn.Properties).toMatchObject({ Handler: 'index.handler', Runtime: 'nodejs24.x' });
      const asset = join(app, 'cdk.out', `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
      // The rotate handler carries the login check's driver beside it (scripts/build.ts).
      const own = ['index.mjs', 'index.mjs.map', 'rotation.config.json'];
      const withLoginCheck = [
        'index.mjs',
        'index.mjs.map',
        'login-check.mjs',
        'login-check.mjs.map',
        'rotation.config.json',
      ];
      expect([own, withLoginCheck]).toContainEqual(readdirSync(asset).sort());
      const config = JSON.parse(readFileSync(join(asset, 'rotation.config.json'), 'utf8'));
      expect(config.projects).toEqual(exampleConfig.projects);
      return readFileSync(join(asset, 'index.mjs'));
    });
    const names = ['rotate', 'disable-customer-x509'];
    expect(names.map((n) => bundles.findIndex((b) => b.equals(shipped(n))))).toEqual(
      expect.arrayContaining([0, 1]),
    );
  }, 120_000);
});

const CDK_CLI = join(ROOT, 'node_modules/aws-cdk/bin/cdk');

/** A template the example app synthesized into `out`. */
const templateIn = (out: string, stack = 'AtlasX509Rotation') =>
  JSON.parse(readFileSync(join(out, `${stack}.template.json`), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    Outputs?: Record<string, unknown>;
  };

describe("the example app's -c flags and errors", () => {
  it('honours the flags docs/deploy.md gives, emits the outputs, and fails bad input in one line', async () => {
    // (the example's app and config are in place: the test above copied them)
    await cp(join(ROOT, 'examples/cdk-app/cdk.json'), join(app, 'cdk.json'));
    const out = join(app, 'cdk.out.flags');
    await inApp('node', ['bin/app.js'], {
      CDK_OUTDIR: out,
      CDK_CONTEXT_JSON: JSON.stringify({
        scheduleEnabled: 'false',
        schedule: 'cron(30 1 * * ? *)',
        timeZone: 'Europe/Berlin',
        alarmEmail: 'oncall@example.com',
        stackName: 'Flags',
      }),
    });
    const template = templateIn(out, 'Flags');
    const schedules = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::Scheduler::Schedule',
    );
    expect(schedules.map((r) => r.Properties.State)).toEqual(['DISABLED', 'DISABLED']);
    expect(schedules.map((r) => r.Properties.ScheduleExpressionTimezone)).toContain(
      'Europe/Berlin',
    );
    expect(
      Object.values(template.Resources).filter((r) => r.Type === 'AWS::SNS::Subscription'),
    ).toHaveLength(1);
    expect(Object.keys(template.Outputs ?? {})).toEqual(
      expect.arrayContaining(['CredentialsSecretArn', 'RotateFunctionName', 'LeaseTableName']),
    );

    // A broken config under a real `cdk synth`: the file, the line and column, no stack dump.
    const bad = join(app, 'broken.config.json');
    await writeFile(bad, '{\n  "projects": [\n');
    const synth = await inApp(process.execPath, [
      CDK_CLI,
      'synth',
      '--quiet',
      '-c',
      `config=${bad}`,
      '-o',
      join(app, 'cdk.out.bad'),
    ]).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(synth.code).toBe(1);
    expect(synth.stderr).toContain(
      `Invalid rotation config in ${bad}:\n  - not valid JSON at line 3, column 1: `,
    );
    expect(synth.stderr).not.toMatch(/^ {4}at /m);
    expect(synth.stderr).not.toContain('triggerUncaughtException');
  }, 120_000);
});

/** An adopter's app that runs cdk-nag's AwsSolutionsChecks as a validation plugin (#24.5). */
const NAG_APP = `const { App, Stack, Validations } = require('aws-cdk-lib');
const { AwsSolutionsChecks } = require('cdk-nag');
const { AtlasX509Rotation } = require('atlas-x509-rotator');
const app = new App({ outdir: process.env.OUT });
const stack = new Stack(app, 'Nag');
new AtlasX509Rotation(stack, 'Rotation', { configFile: process.env.CONFIG });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
`;

/** The runtimes of the functions the nag app synthesized in `dir` (exit 0: no findings). */
const nagSynth = async (dir: string): Promise<string[]> => {
  await writeFile(join(dir, 'nag-app.cjs'), NAG_APP);
  const out = join(dir, 'cdk.out.nag');
  const config = join(ROOT, 'examples/cdk-app/rotation.config.json');
  const { stderr } = await run(process.execPath, ['nag-app.cjs'], {
    cwd: dir,
    env: { ...process.env, OUT: out, CONFIG: config },
    timeout: 120_000,
  });
  expect(stderr).not.toMatch(/AwsSolutions-/);
  return Object.values(templateIn(out, 'Nag').Resources)
    .filter((r) => r.Type === 'AWS::Lambda::Function')
    .map((r) => r.Properties.Runtime as string);
};

describe('cdk-nag AwsSolutions on the pinned and the newest aws-cdk-lib of the peer range', () => {
  it('synthesizes with no finding on either, each on the newest runtime it knows', async () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const installed = (name: string): string =>
      JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
    // The pinned aws-cdk-lib (the adopter app links the repository's).
    expect(await nagSynth(app)).toEqual(['nodejs24.x', 'nodejs24.x']);

    // The newest of the range, installed outside the lock file into a cache kept between runs.
    const { stdout } = await run('npm', [
      'view',
      `aws-cdk-lib@${manifest.peerDependencies['aws-cdk-lib']}`,
      'version',
      '--json',
    ]);
    const versions = [JSON.parse(stdout)].flat() as string[];
    const newest = versions.at(-1) as string;
    const dir = join(ROOT, 'node_modules/.cache/atlas-x509-rotator', `aws-cdk-lib-${newest}`);
    const libAt = join(dir, 'node_modules/aws-cdk-lib/package.json');
    const cached = (() => {
      try {
        return JSON.parse(readFileSync(libAt, 'utf8')).version === newest;
      } catch {
        return false;
      }
    })();
    if (!cached) {
      await run(
        'npm',
        [
          'install',
          '--no-save',
          '--no-package-lock',
          '--no-audit',
          '--no-fund',
          '--loglevel=error',
          '--prefix',
          dir,
          `aws-cdk-lib@${newest}`,
          `cdk-nag@${installed('cdk-nag')}`,
          `constructs@${installed('constructs')}`,
          `zod@${installed('zod')}`,
        ],
        { timeout: 300_000 },
      );
    }
    // The packed package beside them, so that its imports resolve that aws-cdk-lib.
    const pkg = join(dir, 'node_modules/atlas-x509-rotator');
    await rm(pkg, { recursive: true, force: true });
    await run('mkdir', ['-p', pkg]);
    await run('tar', ['-xzf', join(work, packed.filename), '--strip-components=1', '-C', pkg]);
    const runtimes = await nagSynth(dir);
    // cdk-nag's AwsSolutions-L1 wants the newest runtime of that library's Runtime.ALL.
    const { stdout: newestRuntime } = await run(
      process.execPath,
      [
        '-e',
        "const { Runtime, RuntimeFamily } = require('aws-cdk-lib/aws-lambda'); console.log(Runtime.ALL.filter((r) => r.family === RuntimeFamily.NODEJS).map((r) => r.name).sort((a, b) => a.localeCompare(b, undefined, { numeric: true })).at(-1))",
      ],
      { cwd: dir },
    );
    expect(runtimes).toEqual([newestRuntime.trim(), newestRuntime.trim()]);
  }, 420_000);
});

describe('the consumer subpath', () => {
  /** What both module systems must see: the exports, and a non-bundle refused by field name. */
  const probe = (load: string) => `${load}
    const names = ['AtlasX509Client', 'CertificateBundleError', 'parseCertificateBundle'];
    const kinds = names.map((n) => typeof m[n]).join(',');
    let refused = '';
    try { m.parseCertificateBundle('app/secret', '{"password":"x"}'); }
    catch (err) { refused = err.name + ': ' + err.message; }
    console.log(kinds + '|' + refused);`;
  const expected =
    'function,function,function|CertificateBundleError: secret app/secret: certificate is missing';

  it('loads with import and require, and type-checks from .mts and .cts', async () => {
    const esm = await inApp('node', [
      '--input-type=module',
      '-e',
      probe("const m = await import('atlas-x509-rotator/consumer');"),
    ]);
    const cjs = await inApp('node', [
      '--input-type=commonjs',
      '-e',
      probe("const m = require('atlas-x509-rotator/consumer');"),
    ]);
    expect([esm.stdout.trim(), cjs.stdout.trim()]).toEqual([expected, expected]);

    // The declarations, as a TypeScript application resolves them from either kind of module.
    // A .cts compiles its import to require(): it resolves the `require` condition's types.
    const use = `import { AtlasX509Client } from 'atlas-x509-rotator/consumer';
const c: Promise<AtlasX509Client> = AtlasX509Client.connect({ secretId: 's', uri: 'mongodb://h/' });
export const serial = c.then((x) => x.status.serialNumber satisfies string);\n`;
    await writeFile(join(app, 'esm.mts'), use);
    await writeFile(join(app, 'cjs.cts'), use);
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    await inApp(process.execPath, [
      tsc,
      '--noEmit',
      '--strict',
      '--module',
      'nodenext',
      '--types',
      'node',
      '--typeRoots',
      join(ROOT, 'node_modules/@types'),
      '--skipLibCheck',
      'esm.mts',
      'cjs.cts',
    ]);
  }, 60_000);
});

describe('the installed bin', () => {
  it('answers `npx atlas-x509-rotator rotate --help`', async () => {
    const { stdout, stderr } = await inApp('npx', [
      '--no-install',
      'atlas-x509-rotator',
      'rotate',
      '--help',
    ]);
    expect(stdout).toMatch(/^Usage: atlas-x509-rotator rotate --config <file>/);
    expect(stderr).toBe('');
  });

  it('runs a dry run against the simulator and moto_server', async () => {
    const h = await Harness.start();
    try {
      h.sim.addUser(P1, 'app1');
      const config = await h.writeConfig(
        h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
      );
      const { stdout } = await inApp(
        join(app, 'node_modules/.bin/atlas-x509-rotator'),
        ['rotate', '--config', config, '--dry-run', '--json'],
        h.atlasEnv,
      );
      const report = JSON.parse(stdout) as RunReport;
      expect(report.users).toEqual([
        expect.objectContaining({ username: 'app1', action: 'planned' }),
      ]);
      expect(h.sim.count('POST', '/certs')).toBe(0);
    } finally {
      await h.close();
    }
  }, 60_000);
});
