import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { synthCheck } from '../../infra/synth-check.js';
import { synthDefault } from './support.js';

/**
 * The offline synth check inside the suite: the static-egress deployment through the real cdk CLI
 * (the app's entry point, asset staging, cdk-nag and cfn-guard), and cfn-lint on it and on the
 * default stack the other infra tests synthesize in-process, so the CLI runs once.
 * `npm run synth:check` takes both variants through the CLI.
 */
const dir = mkdtempSync(join(tmpdir(), 'atlas-x509-synth-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type GuardReport = {
  pluginReports: {
    pluginName: string;
    violations: unknown[];
    suppressedViolations: {
      ruleName: string;
      reason: string;
      violatingConstructs: { cloudFormationResource: { logicalId: string } }[];
    }[];
  }[];
};
type Resources = Record<string, { Metadata?: { guard?: { SuppressedRules?: string[] } } }>;

describe('offline synth check', () => {
  it('cdk synth succeeds, cfn-guard and cfn-lint find nothing, in either network variant', async () => {
    // The richer deployment (static egress IP: VPC, NAT, flow logs) through the cdk CLI, with
    // cdk-nag and cfn-guard as the app registers them; the default one, as the other infra tests
    // synthesize it, through cfn-lint with it.
    const plain = join(dir, 'default.template.json');
    writeFileSync(plain, JSON.stringify(synthDefault().template.toJSON()));
    const results = await synthCheck({
      variants: ['static-egress-ip'],
      templates: [plain],
      outdir: dir,
    });
    const failed = results.filter((r) => !r.ok).map((r) => `${r.step}\n${r.output}`);
    expect(failed).toEqual([]);
    expect(results.map((r) => r.step)).toEqual([
      'cdk synth (static-egress-ip)',
      'cfn-lint (2 templates)',
    ]);

    // Every guard finding is suppressed with its reason, and every suppression still has a
    // finding (none outlives the resource it was for).
    const assembly = join(dir, 'static-egress-ip');
    const report = JSON.parse(
      readFileSync(join(assembly, 'validation-report.json'), 'utf8'),
    ) as GuardReport;
    const guard = report.pluginReports.find((r) => r.pluginName === 'cdk-validator-cfnguard');
    expect(guard?.violations).toEqual([]);
    const suppressed = (guard?.suppressedViolations ?? []).flatMap((v) =>
      v.violatingConstructs.map((c) => `${v.ruleName}@${c.cloudFormationResource.logicalId}`),
    );
    for (const v of guard?.suppressedViolations ?? []) expect(v.reason.length).toBeGreaterThan(40);
    const template = readdirSync(assembly).find((f) => f.endsWith('.template.json')) ?? '';
    const resources = JSON.parse(readFileSync(join(assembly, template), 'utf8'))
      .Resources as Resources;
    const declared = Object.entries(resources).flatMap(([id, r]) =>
      (r.Metadata?.guard?.SuppressedRules ?? []).map((rule) => `${rule}@${id}`),
    );
    expect(declared.length).toBeGreaterThan(0);
    expect([...new Set(suppressed)].sort()).toEqual(declared.sort());
  }, 240_000);
});
