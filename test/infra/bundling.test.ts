import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SHIPPED_CONFIG_FILE } from '../../infra/handlers.js';
import type { AtlasX509RotatorStack } from '../../infra/stack.js';
import { ESM_REQUIRE_BANNER } from '../../scripts/build.js';
import { cdkApp, synth } from './support.js';

/**
 * The one test that stages the function assets for real (the prebuilt bundles the test setup
 * rebuilt, beside the config), then loads each the way Lambda does: `import()` of index.mjs
 * from the asset directory, in a fresh Node process of the same version as this one (Node 24,
 * Lambda's runtime, under `npm test`).
 */

const outdir = mkdtempSync(join(tmpdir(), 'atlas-x509-bundling-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

let stack: AtlasX509RotatorStack;
const assetDirs: Record<'rotate' | 'disable', string> = { rotate: '', disable: '' };

beforeAll(() => {
  // CDK announces each bundling on stderr: expected here, so kept out of the suite's output.
  const announce = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  let result: ReturnType<typeof synth>;
  try {
    result = synth({}, cdkApp({ outdir }));
  } finally {
    announce.mockRestore();
  }
  stack = result.stack;
  const template: Template = result.template;
  for (const [name, pattern] of [
    ['rotate', /^atlas-x509-rotator: rotates/],
    ['disable', /^atlas-x509-rotator: disables/],
  ] as const) {
    const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
      pattern.test(f.Properties.Description),
    );
    const key = String(fn?.Properties.Code.S3Key);
    assetDirs[name] = join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
  }
}, 120_000);

/** Imports the bundle in a child Node process, as Lambda would, and runs `script` against it. */
const load = (dir: string, script: string): string =>
  execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '--enable-source-maps',
      '-e',
      `const m = await import(${JSON.stringify(join(dir, 'index.mjs'))});\n${script}`,
    ],
    {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'eu-west-1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      },
      timeout: 30_000,
    },
  );

const context = JSON.stringify({
  awsRequestId: 'test',
  functionName: 'f',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:f',
  memoryLimitInMB: '512',
  getRemainingTimeInMillis: 60_000,
});
const invoke = (event: unknown) => `
  const ctx = ${context}; const ms = ctx.getRemainingTimeInMillis; ctx.getRemainingTimeInMillis = () => ms;
  try { await m.handler(${JSON.stringify(event)}, ctx); console.log('resolved'); }
  catch (err) { console.log(err.name + ': ' + err.message); }`;

describe.each(['rotate', 'disable'] as const)('the %s bundle', (name) => {
  it('is an ESM bundle with the createRequire banner, a source map without sources, and the config', () => {
    const dir = assetDirs[name];
    const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
    expect(code.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
    const map = JSON.parse(readFileSync(join(dir, 'index.mjs.map'), 'utf8'));
    expect(map.sourcesContent).toBeUndefined();
    expect(
      map.sources.some((s: string) =>
        s.endsWith(`${name === 'rotate' ? 'rotate' : 'disable-customer-x509'}/handler.ts`),
      ),
    ).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, SHIPPED_CONFIG_FILE), 'utf8'))).toEqual(
      stack.rotation.shippedConfig,
    );
    const size = statSync(join(dir, 'index.mjs')).size;
    expect(size).toBeLessThan(5_000_000);
    expect(existsSync(join(dir, 'node_modules'))).toBe(false);
  });

  it('loads in Node and exports handler', () => {
    expect(load(assetDirs[name], 'console.log(typeof m.handler)').trim()).toBe('function');
  });
});

it('runs the bundled rotate handler up to its payload validation', () => {
  expect(load(assetDirs.rotate, invoke({ dryRun: 'yes' })).trim()).toMatch(
    /^InvalidEventError: Invalid rotate request: dryRun: /,
  );
});

it('runs the bundled disable handler up to its request validation', () => {
  expect(load(assetDirs.disable, invoke({ projectId: 'nope' })).trim()).toMatch(
    /^RefusedError: Invalid disable request: projectId: /,
  );
});

it('ships the login check beside the rotate handler, its driver loading without optional peers', () => {
  const script = `const { MongoLoginCheck } = await import(${JSON.stringify(join(assetDirs.rotate, 'login-check.mjs'))});
  const result = await new MongoLoginCheck().check({ uri: 'mongodb://127.0.0.1:1/?directConnection=true', certificate: 'x', privateKey: 'y', timeoutMs: 500 });
  console.log(JSON.stringify(result));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  // The driver ran (it refused the made-up key) from the asset directory alone.
  expect(JSON.parse(out)).toEqual({ ok: false, reason: expect.stringMatching(/^Mongo\w+Error/) });
  expect(readFileSync(join(assetDirs.rotate, 'index.mjs'), 'utf8')).toContain(
    'import("./login-check.mjs")',
  );
  expect(existsSync(join(assetDirs.disable, 'login-check.mjs'))).toBe(false);
});
