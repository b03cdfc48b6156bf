import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { synthCheck } from '../../infra/synth-check.js';
import { synthCustomized } from './support.js';

/**
 * The offline synth check inside the suite: the default variant through the real cdk CLI
 * (bundling, cdk-nag, the app's entry point), and cfn-lint on it and on the customized stack the
 * other infra tests synthesize in-process (static egress IP, consumers, alarm email), so the CLI
 * runs once. `npm run synth:check` takes both variants through the CLI.
 */
const dir = mkdtempSync(join(tmpdir(), 'atlas-x509-synth-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('offline synth check', () => {
  it('cdk synth succeeds and cfn-lint finds nothing in either network variant', async () => {
    const customized = join(dir, 'customized.template.json');
    writeFileSync(customized, JSON.stringify(synthCustomized().template.toJSON()));
    const results = await synthCheck({ variants: ['default'], templates: [customized] });
    const failed = results.filter((r) => !r.ok).map((r) => `${r.step}\n${r.output}`);
    expect(failed).toEqual([]);
    expect(results.map((r) => r.step)).toEqual(['cdk synth (default)', 'cfn-lint (2 templates)']);
  }, 240_000);
});
