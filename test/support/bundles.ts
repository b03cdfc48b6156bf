import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HandlerName } from '../../infra/handlers.js';

const ROOT = new URL('../../', import.meta.url);

/**
 * Imports the prebuilt handler bundle the package ships (dist/assets/<name>/index.mjs, rebuilt by
 * the test setup), fresh each time, as a new Lambda container would: module state (the config
 * read once, the clients) starts over.
 */
export const importHandlerBundle = async <T>(name: HandlerName): Promise<T> => {
  const file = join(ROOT.pathname, 'dist', 'assets', name, 'index.mjs');
  // Unique in the process, not per copy of this module: a test file that resets modules gets a
  // new copy, and Node's loader caches by URL across all of them.
  const container = randomUUID();
  // dist/ is external to Vite (vitest.config.ts): Node's own loader reads the file as Lambda does.
  return (await import(
    /* @vite-ignore */ `${pathToFileURL(file).href}?container=${container}`
  )) as T;
};
