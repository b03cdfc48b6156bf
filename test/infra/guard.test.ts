import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { type App, Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { failOnGuardFindings, suppressGuardRule } from '../../infra/guard.js';
import { cdkApp } from './support.js';

/**
 * The suppression mechanism of cfn-guard findings. The rules themselves run over the deployment
 * in the synth check (synth-check.test.ts), where any finding not suppressed fails synth and each
 * suppression must still have its finding.
 */

const dir = mkdtempSync(join(tmpdir(), 'atlas-x509-guard-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type TemplateJson = {
  Resources: Record<string, { Metadata?: { guard?: { SuppressedRules?: string[] } } }>;
};

describe('suppressGuardRule and failOnGuardFindings', () => {
  const sqsDlqRule = join(
    dirname(createRequire(import.meta.url).resolve('@cdklabs/cdk-validator-cfnguard/package.json')),
    'rules/control-tower/cfn-guard/sqs/ct-sqs-pr-1.guard',
  );

  /** Two queues without a dead-letter queue, `Accepted` suppressed, under the guard plugin. */
  const queuesApp = (suppressOther: boolean): App => {
    const app = cdkApp({ outdir: mkdtempSync(join(dir, 'app-')) });
    const stack = new Stack(app, 'Queues');
    const accepted = new sqs.Queue(stack, 'Accepted', { enforceSSL: true });
    suppressGuardRule(accepted, 'sqs_dlq_check', 'accepted in this test');
    suppressGuardRule(accepted, 'sqs_dlq_check', 'accepted in this test');
    const other = new sqs.Queue(stack, 'Other', { enforceSSL: true });
    if (suppressOther)
      suppressGuardRule(other.node.defaultChild as Construct, 'sqs_dlq_check', 'too');
    const guard = new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: [sqsDlqRule] });
    Validations.of(app).addPlugins(failOnGuardFindings(guard));
    return app;
  };

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('fails synth on a finding left beside a suppressed one', () => {
    let failure = '';
    try {
      queuesApp(false).synth();
    } catch (err) {
      failure = String(err);
    }
    expect(failure).toMatch(/Queues\/Other\/Resource[\s\S]*sqs_dlq_check/);
    expect(failure).not.toContain('Queues/Accepted');
  });

  it('passes once every finding is suppressed, reasons in the report and the template', () => {
    const app = queuesApp(true);
    const assembly = app.synth();
    const resources = assembly.getStackByName('Queues').template
      .Resources as TemplateJson['Resources'];
    const suppressed = Object.values(resources).map((r) => r.Metadata?.guard?.SuppressedRules);
    expect(suppressed.filter((s) => s !== undefined)).toEqual([
      ['sqs_dlq_check'],
      ['sqs_dlq_check'],
    ]);
    const report = JSON.parse(
      readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'),
    );
    const guard = report.pluginReports.find(
      (r: { pluginName: string }) => r.pluginName === 'cdk-validator-cfnguard',
    );
    expect(guard.violations).toEqual([]);
    expect(guard.suppressedViolations.map((v: { reason: string }) => v.reason).sort()).toEqual([
      'accepted in this test',
      'too',
    ]);
  });

  it('refuses a construct with no resource of its own', () => {
    const stack = new Stack(cdkApp(), 'Empty');
    expect(() => suppressGuardRule(new Construct(stack, 'Group'), 'sqs_dlq_check', 'x')).toThrow(
      /Empty\/Group: no CloudFormation resource/,
    );
  });
});
