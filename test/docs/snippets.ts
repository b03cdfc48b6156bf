import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Block, ROOT } from './blocks.js';

/**
 * The TypeScript a reader copies, type-checked in one `tsc` run against the package's public
 * types: `atlas-x509-rotator` is infra/index.ts, `atlas-x509-rotator/consumer` is
 * functions/consumer/index.ts, as the package's `exports` map them once built.
 */

/** Inside the repository, so that aws-cdk-lib and the SDK resolve from its node_modules. */
export const SNIPPETS_DIR = join(ROOT, 'node_modules/.cache/docs-snippets');

/** Names a fragment may use without importing them, and where they come from in an app. */
const KNOWN_IMPORTS: [string, string][] = [
  ['AtlasX509Rotation', "import { AtlasX509Rotation } from 'atlas-x509-rotator';"],
  ['App', "import { App } from 'aws-cdk-lib';"],
  ['Stack', "import { Stack } from 'aws-cdk-lib';"],
  ['RemovalPolicy', "import { RemovalPolicy } from 'aws-cdk-lib';"],
  ['Duration', "import { Duration } from 'aws-cdk-lib';"],
  ['kms', "import * as kms from 'aws-cdk-lib/aws-kms';"],
  ['ec2', "import * as ec2 from 'aws-cdk-lib/aws-ec2';"],
  ['iam', "import * as iam from 'aws-cdk-lib/aws-iam';"],
  [
    'SecretsManagerClient',
    "import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';",
  ],
  [
    'GetSecretValueCommand',
    "import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';",
  ],
  ['readFileSync', "import { readFileSync } from 'node:fs';"],
];

/** What a fragment refers to from the app around it (declared, not defined). */
const CONTEXT: [string, string][] = [
  ['stack', 'declare const stack: import("aws-cdk-lib").Stack;'],
  ['app', 'declare const app: import("aws-cdk-lib").App;'],
  ['account', 'declare const account: string;'],
  ['appRole', 'declare const appRole: import("aws-cdk-lib/aws-iam").IRole;'],
  ['orders', 'declare const orders: import("aws-cdk-lib/aws-ecs").FargateService;'],
  [
    'config',
    'declare const config: import("atlas-x509-rotator").AtlasX509RotationProps["config"];',
  ],
  ['rotation', 'declare const rotation: import("atlas-x509-rotator").AtlasX509Rotation;'],
  ['log', 'declare const log: { error(message: string): void };'],
  ['secretId', 'declare const secretId: string;'],
  ['replicaArn', 'declare const replicaArn: string;'],
];

/** How a block's statements are wrapped: `this` is the stack, as in a stack's constructor. */
export const SNIPPET_HEADER =
  "export async function snippet(this: import('aws-cdk-lib').Stack): Promise<void> {";

const IMPORT_LINE = /^import\b.*\bfrom\s+'[^']+';\s*$/;

/** One block as a module: its imports on top, its statements in a function of a stack. */
export const snippetModule = (block: Block): string => {
  const lines = block.text.split('\n');
  const imports = lines.filter((l) => IMPORT_LINE.test(l));
  const body = lines.filter((l) => !IMPORT_LINE.test(l)).join('\n');
  const uses = (name: string) => new RegExp(`(?<![\\w.'"])${name}\\b`).test(body);
  const imported = (name: string) => imports.some((l) => new RegExp(`\\b${name}\\b`).test(l));
  const defined = (name: string) =>
    new RegExp(`\\b(?:const|let|var|function|class)\\s+${name}\\b`).test(body);
  return [
    `// ${block.file}:${block.line}`,
    ...imports,
    ...KNOWN_IMPORTS.filter(([n]) => uses(n) && !imported(n)).map(([, i]) => i),
    ...CONTEXT.filter(([n]) => uses(n) && !imported(n) && !defined(n)).map(([, d]) => d),
    SNIPPET_HEADER,
    body,
    '}',
    '',
  ].join('\n');
};

export interface TypeCheckFile {
  /** Where it comes from (file:line), which names its module. */
  from: string;
  source: string;
}

const fileNameOf = (from: string) => `${from.replace(/[^\w]+/g, '_')}.ts`;

/** Type-checks every file in one tsc run; the errors, each under the file:line it came from. */
export const typeCheck = async (files: TypeCheckFile[]): Promise<string[]> => {
  const dir = join(SNIPPETS_DIR, 'tsc');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const f of files) await writeFile(join(dir, fileNameOf(f.from)), f.source);
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.json'),
      compilerOptions: {
        noEmit: true,
        noUnusedLocals: false,
        noUnusedParameters: false,
        paths: {
          'atlas-x509-rotator': [join(ROOT, 'infra/index.ts')],
          'atlas-x509-rotator/consumer': [join(ROOT, 'functions/consumer/index.ts')],
        },
      },
      include: ['*.ts'],
      // The base excludes node_modules, where this directory lives.
      exclude: [],
    }),
  );
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], {
      cwd: dir,
      maxBuffer: 10_000_000,
    });
    return [];
  } catch (err) {
    const out = (err as { stdout?: string }).stdout ?? String(err);
    const byFile = new Map(files.map((f) => [fileNameOf(f.from), f.from]));
    return out
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => {
        const name = /^([\w.]+\.ts)\(/.exec(l)?.[1];
        const from = name ? byFile.get(name) : undefined;
        return from ? `${from}: ${l}` : l;
      });
  }
};
