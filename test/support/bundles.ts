import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HandlerName } from '../../infra/handlers.js';

const ROOT = new URL('../../', import.meta.url);

let container = 0;

/**
 * Imports the prebuilt handler bundle the package ships (dist/assets/<name>/index.mjs, rebuilt by
 * the test setup), fresh each time, as a new Lambda container would: module state (the config
 * read once, the clients) starts over.
 */
export const importHandlerBundle = async <T>(name: HandlerName): Promise<T> => {
  const file = join(ROOT.pathname, 'dist', 'assets', name, 'index.mjs');
  container += 1;
  // dist/ is external to Vite (vitest.config.ts): Node's own loader reads the file as Lambda does.
  return (await import(
    /* @vite-ignore */ `${pathToFileURL(file).href}?container=${container}`
  )) as T;
};
