import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The offline synth check: synthesizes the app with the example config through the real `cdk`
 * CLI (bundling included, so cdk-nag and the bundles are checked too), in both network
 * variants at once, then runs cfn-lint on every template. `npm test` runs it as a test
 * (test/infra/synth-check.test.ts); `npm run synth:check` runs it alone.
 */

const variants: Record<string, string[]> = {
  default: [],
  'static-egress-ip': [
    '-c',
    'staticEgressIp=true',
    '-c',
    'consumers=infra/example.consumers.json',
    '-c',
    'alarmEmail=ops@example.com',
    // Secrets Manager rotates the created credentials secret, admin-assisted.
    '-c',
    'credentialRotation=arn:aws:secretsmanager:us-east-1:111122223333:secret:atlas-admin/rotation-AbCdEf',
  ],
};

export interface StepResult {
  step: string;
  ok: boolean;
  output: string;
}

/**
 * The check is environment-agnostic. The cdk CLI makes a stack environment-specific (and then
 * tries context lookups, availability zones, that need the real AWS) when it learns an account:
 * from an STS endpoint that answers (a local stand-in, say) or from its cache of access key ->
 * account in ~/.cdk (which any earlier run against such an endpoint fills). So neither reaches it.
 */
const agnosticEnv = (cdkHome: string): NodeJS.ProcessEnv => {
  const { AWS_ENDPOINT_URL_STS: _sts, AWS_ENDPOINT_URL: _all, ...env } = process.env;
  return { ...env, CDK_HOME: cdkHome };
};

const run = (
  step: string,
  command: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): Promise<StepResult> =>
  new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(env ? { env } : {}),
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.once('error', (err) => resolve({ step, ok: false, output: err.message }));
    child.once('close', (code) => resolve({ step, ok: code === 0, output }));
  });

export interface SynthCheckOptions {
  /** Variants to synthesize through the cdk CLI. @default all */
  variants?: readonly (keyof typeof variants)[];
  /** Templates synthesized elsewhere, linted with the others. */
  templates?: readonly string[];
  /** Where the cloud assemblies go (`<outdir>/<variant>`), kept for the caller. @default a temporary directory, removed */
  outdir?: string;
}

/** Every step's result; the first failed one says why. */
export const synthCheck = async (options: SynthCheckOptions = {}): Promise<StepResult[]> => {
  const root = options.outdir ?? (await mkdtemp(join(tmpdir(), 'atlas-x509-synth-')));
  const chosen = options.variants ?? Object.keys(variants);
  try {
    const cdk = fileURLToPath(new URL('../node_modules/aws-cdk/bin/cdk', import.meta.url));
    const synths = await Promise.all(
      chosen
        .map((name) => [name, variants[name] ?? []] as const)
        .map(([name, context]) =>
          run(
            `cdk synth (${name})`,
            process.execPath,
            [
              cdk,
              'synth',
              '--quiet',
              '-c',
              'config=infra/example.config.json',
              ...context,
              '-o',
              join(root, name),
            ],
            agnosticEnv(join(root, '.cdk-home')),
          ),
        ),
    );
    if (synths.some((s) => !s.ok)) return synths;
    const templates: string[] = [...(options.templates ?? [])];
    for (const name of chosen) {
      const dir = join(root, name);
      for (const file of await readdir(dir)) {
        if (file.endsWith('.template.json')) templates.push(join(dir, file));
      }
    }
    const lint = await run(`cfn-lint (${templates.length} templates)`, 'cfn-lint', [
      '--config-file',
      'infra/cfn-lint.yaml',
      '--',
      ...templates,
    ]);
    return [...synths, lint];
  } finally {
    if (!options.outdir) await rm(root, { recursive: true, force: true });
  }
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const results = await synthCheck();
  for (const r of results) {
    process.stdout.write(`synth:check: ${r.step} ${r.ok ? 'ok' : 'FAILED'}\n`);
    if (!r.ok) process.stdout.write(r.output);
  }
  process.exit(results.every((r) => r.ok) ? 0 : 1);
}
