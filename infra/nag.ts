import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag 3 reads acknowledgements from construct metadata, walking up from the resource it
 * flags. Every accepted finding is recorded here, next to the resource, with its reason.
 */
export const acknowledge = (scope: IConstruct, id: string, reason: string): void => {
  Validations.of(scope).acknowledge({ id, reason });
};

/**
 * The id cdk-nag gives an IAM5 finding for one wildcard resource, e.g.
 * `AwsSolutions-IAM5[Resource::<RotateFunction1234.Arn>:*]`. Computed from the very
 * expression the policy uses, so the acknowledgement follows renamed constructs and config
 * prefixes instead of hard-coding logical ids.
 */
export const wildcardResourceFinding = (scope: IConstruct, resource: string): string =>
  `AwsSolutions-IAM5[Resource::${flattenReference(Stack.of(scope).resolve(resource))}]`;

const isRecord = (node: unknown): node is Record<string, unknown> =>
  typeof node === 'object' && node !== null && !Array.isArray(node);

// Mirrors cdk-nag's own flattenCfnReference (not exported): references become <Ref> and
// <LogicalId.Attribute>, joins are concatenated.
const flattenReference = (node: unknown): string => {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (isRecord(node)) {
    const join = node['Fn::Join'];
    if (Array.isArray(join)) {
      const [delimiter, items] = join as [string, unknown[]];
      return items.map(flattenReference).join(delimiter);
    }
    if ('Fn::Sub' in node) return flattenReference(node['Fn::Sub']);
    const getAtt = node['Fn::GetAtt'];
    if (Array.isArray(getAtt)) {
      return `<${flattenReference(getAtt[0])}.${flattenReference(getAtt[1])}>`;
    }
    if ('Fn::ImportValue' in node) return flattenReference(node['Fn::ImportValue']);
    if ('Ref' in node) return `<${flattenReference(node.Ref)}>`;
  }
  return JSON.stringify(node);
};
