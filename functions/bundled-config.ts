import { loadConfigFile } from './domain/config/load.js';
import type { RotatorConfig } from './domain/config/types.js';

// The validated config ships inside the function asset, beside the bundled handler.
const CONFIG_PATH =
  process.env.ROTATOR_CONFIG_PATH ?? new URL('./rotation.config.json', import.meta.url).pathname;

let config: Promise<RotatorConfig> | undefined;

/** The deployed config, read and validated once per container; a failed read is retried. */
export const bundledConfig = (): Promise<RotatorConfig> => {
  config ??= loadConfigFile(CONFIG_PATH).catch((err: unknown) => {
    config = undefined; // a fixed file is picked up by the next invoke
    throw err;
  });
  return config;
};
