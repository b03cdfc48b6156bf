import type { Statement } from './support.js';

/**
 * A small evaluator of identity-policy statements, for the operators the rotator's policy uses
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
 * StringEquals, StringLike, ForAllValues:/ForAnyValue:StringEquals, Null, Bool, BoolIfExists.
 * An operator it does not know fails the test rather than guess. Allowed: some Allow statement
 * matches and no Deny does. Moto does not enforce IAM, so this is where the policy is exercised.
 */

export type ContextValue = string | readonly string[];
export interface IamRequest {
  action: string;
  resource: string;
  context: Readonly<Record<string, ContextValue | undefined>>;
}

const REFS: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'eu-west-1',
  'AWS::AccountId': '111122223333',
};

/** Resolves the template's `Fn::Join`/`Ref` of pseudo parameters to a string. */
export const resolve = (value: unknown): string => {
  if (typeof value === 'string') return value;
  const v = value as { Ref?: string; 'Fn::Join'?: [string, unknown[]] };
  if (v.Ref && REFS[v.Ref]) return REFS[v.Ref] as string;
  if (v['Fn::Join']) return v['Fn::Join'][1].map(resolve).join(v['Fn::Join'][0]);
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
};

const glob = (pattern: string, value: string): boolean =>
  new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
      .join('')}$`,
  ).test(value);

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : [String(v)]);
const values = (v: ContextValue | undefined): string[] | undefined =>
  v === undefined ? undefined : typeof v === 'string' ? [v] : [...v];

const holds = (operator: string, key: string, wanted: unknown, req: IamRequest): boolean => {
  const got = values(req.context[key]);
  const want = list(wanted);
  switch (operator) {
    case 'StringEquals':
      return got !== undefined && got.length === 1 && want.includes(got[0] as string);
    case 'StringLike':
      return got !== undefined && got.length === 1 && want.some((w) => glob(w, got[0] as string));
    case 'ForAllValues:StringEquals':
      return got === undefined || got.every((g) => want.includes(g));
    case 'ForAnyValue:StringEquals':
      return got?.some((g) => want.includes(g)) === true;
    case 'Null':
      return (want[0] === 'true') === (got === undefined);
    case 'Bool':
      return got !== undefined && got[0] === want[0];
    case 'BoolIfExists':
      return got === undefined || got[0] === want[0];
    default:
      throw new Error(`the evaluator does not know ${operator}`);
  }
};

const matches = (s: Statement, req: IamRequest): boolean => {
  const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
  if (!actions.some((a) => glob(a, req.action))) return false;
  const resources = (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map(resolve);
  if (!resources.some((r) => glob(r, req.resource))) return false;
  return Object.entries(s.Condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, wanted]) => holds(operator, key, wanted, req)),
  );
};

/** The statements that allow the request; empty when none does, or a Deny matches. */
export const allowedBy = (statements: readonly Statement[], req: IamRequest): string[] => {
  const deny = statements.filter(
    (s) => (s as { Effect?: string }).Effect === 'Deny' && matches(s, req),
  );
  if (deny.length > 0) return [];
  return statements
    .filter((s) => (s as { Effect?: string }).Effect !== 'Deny' && matches(s, req))
    .map((s) => s.Sid ?? '?');
};

export const isAllowed = (statements: readonly Statement[], req: IamRequest): boolean =>
  allowedBy(statements, req).length > 0;

/** The context keys a request's tags give (`aws:RequestTag/…`, `aws:TagKeys`). */
export const requestTags = (tags: readonly { Key?: string; Value?: string }[]) => ({
  'aws:TagKeys': tags.map((t) => t.Key as string),
  ...Object.fromEntries(tags.map((t) => [`aws:RequestTag/${t.Key}`, t.Value as string])),
});

/** The context keys a secret's tags give (`aws:ResourceTag/…` and `secretsmanager:ResourceTag/…`). */
export const resourceTags = (tags: readonly { Key?: string; Value?: string }[]) =>
  Object.fromEntries(
    tags.flatMap((t) => [
      [`aws:ResourceTag/${t.Key}`, t.Value as string],
      [`secretsmanager:ResourceTag/${t.Key}`, t.Value as string],
    ]),
  );
