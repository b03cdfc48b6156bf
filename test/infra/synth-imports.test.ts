import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/harness.js';

/**
 * `cdk synth` loads the construct, not the functions: what `infra/` imports of ours, followed
 * through every file, must not reach Powertools or an AWS SDK (they cost seconds at synth and
 * tie the construct to the functions' runtime). esbuild's metafile lists each file's imports.
 */
describe('infra loads no runtime dependency of the functions', () => {
  it('no file reachable from the app imports Powertools, an AWS SDK client or undici', async () => {
    const result = await build({
      entryPoints: [`${ROOT}/infra/app.ts`],
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      metafile: true,
      write: false,
      logLevel: 'silent',
    });
    const offending: string[] = [];
    for (const [file, input] of Object.entries(result.metafile.inputs)) {
      for (const imported of input.imports) {
        if (/^(@aws-lambda-powertools|@aws-sdk|@smithy|undici)(\/|$)/.test(imported.path)) {
          offending.push(`${file} → ${imported.path}`);
        }
      }
    }
    expect(offending).toEqual([]);
    // The check sees our files: the construct and the domain names it uses are among them.
    const files = Object.keys(result.metafile.inputs);
    expect(files).toContain('infra/construct.ts');
    expect(files).toContain('functions/domain/names.ts');
  });
});
