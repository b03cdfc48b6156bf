import type { TestProject } from 'vitest/node';
import { buildBundles, CLI } from '../../scripts/build.js';
import { type MotoServer, startMoto } from '../../tools/aws/moto.js';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
    /** The CLI as the package ships it (dist/cli), for the tests that spawn it. */
    cliBundle: string;
  }
}

/**
 * Every project runs this setup, in the same process: one build and one moto_server serve them
 * all (kept on globalThis, since each project may load this module anew).
 */
const shared = globalThis as { rotatorSetup?: Promise<{ moto?: MotoServer; endpoint: string }> };

const setUpOnce = async (): Promise<{ moto?: MotoServer; endpoint: string }> => {
  // What the package ships, rebuilt from the sources first: no test runs a stale bundle.
  await buildBundles();
  // The moto_server `.ci/run` started (MOTO_ENDPOINT), or one for this run.
  const given = process.env.MOTO_ENDPOINT;
  if (given) return { endpoint: given };
  const moto = await startMoto();
  return { moto, endpoint: moto.endpoint };
};

export const setup = async (project: TestProject): Promise<void> => {
  shared.rotatorSetup ??= setUpOnce();
  const { endpoint } = await shared.rotatorSetup;
  project.provide('cliBundle', CLI);
  project.provide('motoEndpoint', endpoint);
};

export const teardown = async (): Promise<void> => {
  const done = shared.rotatorSetup;
  shared.rotatorSetup = undefined;
  await (await done)?.moto?.stop();
};
