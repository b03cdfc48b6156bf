import type { TestProject } from 'vitest/node';
import { type MotoServer, startMoto } from './moto.js';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}

let moto: MotoServer | undefined;

/** Uses the moto_server that `.ci/run` started (MOTO_ENDPOINT), or starts one for this run. */
export const setup = async (project: TestProject): Promise<void> => {
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
