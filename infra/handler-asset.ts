import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { RawConfig } from '../functions/domain/config/schema.js';
import { type HandlerName, SHIPPED_CONFIG_FILE } from './handlers.js';

/** The package's root: the nearest package.json above this file, in a checkout or an install. */
const packageRoot = (): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('atlas-x509-rotator: no package.json above the construct');
    dir = parent;
  }
  return dir;
};

/** Where `npm run build` put the handler's bundle; a clear error when it has not run. */
export const prebuiltHandlerDir = (name: HandlerName): string => {
  const dir = join(packageRoot(), 'dist', 'assets', name);
  if (!existsSync(join(dir, 'index.mjs'))) {
    throw new Error(
      `The prebuilt ${name} handler is missing (${join(dir, 'index.mjs')}): run \`npm run build\` in the atlas-x509-rotator checkout`,
    );
  }
  return dir;
};

/**
 * The function's code: the prebuilt bundle and, beside it, the validated config (it travels in
 * the asset, not in an environment variable: Lambda's 4 KB limit). CDK's local bundling stages
 * both straight into the cloud assembly, so a consumer needs no esbuild, no Docker and no lock
 * file, and the asset hash covers the config.
 */
export const handlerCode = (name: HandlerName, config: RawConfig): lambda.Code => {
  const source = prebuiltHandlerDir(name);
  const configJson = `${JSON.stringify(config, null, 2)}\n`;
  return lambda.Code.fromAsset(source, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the type, never pulled: local bundling below always succeeds.
      image: DockerImage.fromRegistry('scratch'),
      local: {
        tryBundle(outputDir: string): boolean {
          for (const file of readdirSync(source)) {
            copyFileSync(join(source, file), join(outputDir, file));
          }
          writeFileSync(join(outputDir, SHIPPED_CONFIG_FILE), configJson);
          return true;
        },
      },
    },
  });
};
