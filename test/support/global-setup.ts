import type { TestProject } from 'vitest/node';
import { buildBundles, CLI } from '../../scripts/build.js';
import { type MotoServer, startMoto } from './moto.js';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
    /** The CLI as the package ships it (dist/cli), for the tests that spawn it. */
    cliBundle: string;
  }
}

let moto: MotoServer | undefined;

/** Uses the moto_server that `.ci/run` started (MOTO_ENDPOINT), or starts one for this run. */
export const setup = async (project: TestProject): Promise<void> => {
  // What the package ships, rebuilt from the sources first: no test runs a stale bundle.
  await buildBundles();
  project.provide('cliBundle', CLI);
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
};
