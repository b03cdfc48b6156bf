import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PROJECT_A, READER_A, synth } from './support.js';

// The two shapes of the deployment: every optional resource appears in one of them.
const variants = {
  default: {},
  'static egress IP with consumers': {
    staticEgressIp: true,
    consumers: { [PROJECT_A]: [READER_A] },
    alarmEmail: 'oncall@example.com',
  },
};

describe('cdk-nag AwsSolutions', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  for (const [name, props] of Object.entries(variants)) {
    it(`finds nothing unacknowledged (${name})`, () => {
      const { app } = synth(props);
      expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
    });

    it(`needs every acknowledgement, each with a reason (${name})`, () => {
      // Record the acknowledgements instead of applying them: then the findings they would
      // have silenced must be exactly those.
      const acknowledged: { id: string; reason: string }[] = [];
      // (aws-cdk-lib acknowledges some of its own CloudFormation-Validate rules: not ours.)
      vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation((...rules) => {
        for (const { id, reason } of rules) {
          if (id.startsWith('AwsSolutions-')) acknowledged.push({ id, reason });
        }
      });
      const { app } = synth(props);
      const findings = new AwsSolutionsChecks().validateScope(app).violations;

      expect(findings.map((v) => v.ruleName).sort()).toEqual(
        [...new Set(acknowledged.map((a) => a.id))].sort(),
      );
      for (const { reason } of acknowledged) expect(reason.length).toBeGreaterThan(40);
    });
  }

  it('still reports what is not acknowledged', () => {
    vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => undefined);
    const { app } = synth();
    const findings = new AwsSolutionsChecks().validateScope(app).violations.map((v) => v.ruleName);
    expect(findings).toEqual(
      expect.arrayContaining([
        'AwsSolutions-SMG4',
        'AwsSolutions-SQS3',
        expect.stringMatching(/^AwsSolutions-IAM5\[Resource::arn:.*:secret:atlas-x509\/\*\]$/),
        expect.stringMatching(/^AwsSolutions-IAM5\[Resource::<.*RotateFunction.*\.Arn>:\*\]$/),
      ]),
    );
  });
});
