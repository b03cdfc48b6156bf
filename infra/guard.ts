import {
  CfnResource,
  type IPolicyValidationContext,
  type IPolicyValidationPlugin,
  type PolicyValidationPluginReport,
  Validations,
} from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';

/**
 * cfn-guard (`@cdklabs/cdk-validator-cfnguard`, the Control Tower proactive controls) runs at
 * synth beside cdk-nag (infra/app.ts). An accepted finding is suppressed here, on the one
 * resource it is about, with its reason (docs/cdk-hygiene.md lists them all).
 *
 * Nothing here loads the validator itself: the construct library ships without it.
 */

/** The name CfnGuardValidator reports under; CDK scopes acknowledged rule ids by it. */
const GUARD_PLUGIN = 'cdk-validator-cfnguard';

/**
 * Suppresses cfn-guard `rule` (its rule name, e.g. `sqs_dlq_check`) on `scope`'s resource (the
 * construct itself when it is an L1, else its default child), for `reason`. CDK's synth-time
 * validation drops the finding through the acknowledgement, which records the reason beside it
 * in the report; the template carries `Metadata.guard.SuppressedRules` as well, the convention
 * cfn-guard rules run on cdk.out by other tools read.
 */
export const suppressGuardRule = (scope: IConstruct, rule: string, reason: string): void => {
  const resource = CfnResource.isCfnResource(scope) ? scope : scope.node.defaultChild;
  if (!resource || !CfnResource.isCfnResource(resource)) {
    throw new Error(`${scope.node.path}: no CloudFormation resource to suppress ${rule} on`);
  }
  const guard = (resource.getMetadata('guard') ?? {}) as { SuppressedRules?: string[] };
  const rules = guard.SuppressedRules ?? [];
  if (!rules.includes(rule)) {
    resource.addMetadata('guard', { ...guard, SuppressedRules: [...rules, rule] });
  }
  Validations.of(resource).acknowledge({ id: `${GUARD_PLUGIN}::${rule}`, reason });
};

/**
 * The findings every RotatorFunction draws: its log group, and the function itself when it
 * runs outside a VPC. Typed by shape, not by the class, so that rotator-function.ts may call it
 * (`suppressRotatorFunctionGuardRules(this)`) without an import cycle; a second call on the same
 * function changes nothing.
 */
export const suppressRotatorFunctionGuardRules = (fn: {
  readonly function: lambda.Function;
  readonly logGroup: logs.ILogGroup;
}): void => {
  suppressGuardRule(
    fn.logGroup,
    'cloudwatch_log_group_encrypted_check',
    'CloudWatch Logs encrypts every log group at rest. The functions log ids, names and outcomes, never a private key or credential, and the log group is retained past the stack: a customer managed key would have to be kept (and paid for) as long, for no data it would protect.',
  );
  if (!fn.function.isBoundToVpc) {
    suppressGuardRule(
      fn.function,
      'lambda_inside_vpc_check',
      'The function reaches only public HTTPS endpoints (the Atlas Admin API and AWS APIs) and no private resource. A VPC is opt-in (staticEgressIp for an Atlas API access list, or the vpc prop): by default it would only add a NAT gateway to pay for.',
    );
  }
};

/**
 * `plugin` (the cfn-guard validator) with every finding an error. CfnGuardValidator gives its
 * findings no severity, and once CDK has dropped an acknowledged finding it recomputes the
 * report's success from the severities left: without this, one suppression would let every
 * other finding pass synth.
 */
export const failOnGuardFindings = (plugin: IPolicyValidationPlugin): IPolicyValidationPlugin => ({
  name: plugin.name,
  ...(plugin.version ? { version: plugin.version } : {}),
  ...(plugin.ruleIds ? { ruleIds: plugin.ruleIds } : {}),
  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const report = plugin.validate(context);
    return {
      ...report,
      violations: report.violations.map((violation) => ({ ...violation, severity: 'error' })),
    };
  },
});
