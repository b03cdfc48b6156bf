import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { TestProject } from 'vitest/node';
import { type MotoServer, startMoto } from './moto.js';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
    /** The CLI bundled once for the tests that spawn it (a second per spawn less than tsx). */
    cliBundle: string;
  }
}

let moto: MotoServer | undefined;
let bundleDir: string | undefined;

/** functions/cli.ts and everything it imports, the SDK included, in one ESM file. */
const bundleCli = async (): Promise<string> => {
  bundleDir = await mkdtemp(join(tmpdir(), 'atlas-x509-cli-'));
  const outfile = join(bundleDir, 'cli.mjs');
  await build({
    entryPoints: ['functions/cli.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
    // CommonJS dependencies inside an ES module need a real `require`.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
  });
  return outfile;
};

/** Uses the moto_server that `.ci/run` started (MOTO_ENDPOINT), or starts one for this run. */
export const setup = async (project: TestProject): Promise<void> => {
  project.provide('cliBundle', await bundleCli());
  const given = process.env.MOTO_ENDPOINT;
  if (given) {
    project.provide('motoEndpoint', given);
    return;
  }
  moto = await startMoto();
  project.provide('motoEndpoint', moto.endpoint);
};

export const teardown = async (): Promise<void> => {
  await moto?.stop();
  if (bundleDir) await rm(bundleDir, { recursive: true, force: true });
};
