import { readFile } from 'node:fs/promises';
import { ConfigError } from './errors.js';
import { parseConfig } from './resolve.js';
import type { RotatorConfig } from './types.js';

/** Reads and validates a config file. Every failure is a ConfigError naming the file. */
export const loadConfigFile = async (path: string): Promise<RotatorConfig> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? err}`],
      path,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`not valid JSON: ${(err as Error).message}`], path);
  }
  return parseConfig(json, path);
};
