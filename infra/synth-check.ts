import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `npm run synth:check`: synthesizes the app offline with the example config (bundling
 * included, so cdk-nag and the bundles are checked too), in both network variants, then runs
 * cfn-lint on every template. Exits non-zero on the first failure.
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
  ],
};

const run = (command: string, args: string[]): void => {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`synth:check: ${command} ${args.join(' ')} failed\n`);
    process.exit(result.status ?? 1);
  }
};

const root = mkdtempSync(join(tmpdir(), 'atlas-x509-synth-'));
try {
  const templates: string[] = [];
  for (const [name, context] of Object.entries(variants)) {
    const outdir = join(root, name);
    process.stdout.write(`synth:check: cdk synth (${name}) -> ${outdir}\n`);
    run('npx', [
      'cdk',
      'synth',
      '--quiet',
      '-c',
      'config=infra/example.config.json',
      ...context,
      '-o',
      outdir,
    ]);
    templates.push(
      ...readdirSync(outdir)
        .filter((file) => file.endsWith('.template.json'))
        .map((file) => join(outdir, file)),
    );
  }
  process.stdout.write(`synth:check: cfn-lint ${templates.length} templates\n`);
  run('cfn-lint', ['--config-file', 'infra/cfn-lint.yaml', '--', ...templates]);
  process.stdout.write('synth:check: ok\n');
} finally {
  rmSync(root, { recursive: true, force: true });
}
