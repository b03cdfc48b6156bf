import type { App } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/domain/config/errors.js';
import { type EcsRedeployTarget, redeployRules } from '../../infra/ecs-redeploy.js';
import {
  actions,
  caught,
  logicalId,
  PROJECT_A,
  PROJECT_B,
  roleStatements,
  type Statement,
  synth,
  synthDefault,
} from './support.js';

const ACCOUNT = '111122223333';
const service = (name: string, region = 'eu-west-1') =>
  `arn:aws:ecs:${region}:${ACCOUNT}:service/prod/${name}`;
const ORDERS = service('orders');
const REPORTS = service('reports', 'eu-central-1');
const BILLING = service('billing');
const REDEPLOY = Match.stringLikeRegexp('^atlas-x509-rotator: starts a new deployment');
const env = { account: ACCOUNT, region: 'eu-west-1' };

const redeployEcsServices = [
  { projectId: PROJECT_A, serviceArns: [ORDERS, REPORTS] },
  { projectId: PROJECT_A, username: 'reporting', serviceArns: [REPORTS] },
  { projectId: PROJECT_B, username: 'billing', serviceArns: [BILLING, ORDERS] },
];

const ecsStatements = (template: Template): Statement[] =>
  Object.values(template.findResources('AWS::IAM::Role')).flatMap((role) =>
    ((role.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[])
      .flatMap((p) => p.PolicyDocument.Statement)
      .filter((s) => actions(s).some((a) => a.startsWith('ecs:'))),
  );

describe('redeployEcsServices', () => {
  let template: Template;
  let app: App;
  beforeAll(() => {
    ({ template, app } = synth({ env, redeployEcsServices }));
  });

  it('leaves cdk-nag (AwsSolutions) nothing to find', () => {
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
  });

  it('lets one function update and describe exactly the named services, nothing else', () => {
    expect(roleStatements(template, REDEPLOY)).toContainEqual({
      Sid: 'RedeployNamedServices',
      Effect: 'Allow',
      Action: ['ecs:DescribeServices', 'ecs:UpdateService'],
      Resource: [ORDERS, REPORTS, BILLING].sort(),
    });
    // No other role of the stack may touch ECS, and this one only through that statement.
    expect(ecsStatements(template)).toHaveLength(1);
    const own = roleStatements(template, REDEPLOY).map((s) => s.Sid);
    expect(own.sort()).toEqual(['RedeployNamedServices', 'WriteOwnLogs']);
  });

  it('runs on the rotator’s own promotion event: one rule per service and project', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter(
      (r) => r.Properties.EventPattern?.source?.[0] === 'atlas-x509-rotator',
    );
    const patterns = rules.map((r) => r.Properties.EventPattern);
    expect(patterns).toHaveLength(4);
    for (const pattern of patterns) {
      expect(pattern).toMatchObject({
        source: ['atlas-x509-rotator'],
        'detail-type': ['Atlas X509 Certificate Rotated'],
        detail: { secretName: [{ prefix: 'atlas-x509/' }] },
      });
    }
    const targetOf = (r: (typeof rules)[number]) =>
      JSON.parse(r.Properties.Targets[0].InputTransformer.InputTemplate.replace(/<[^>]+>/g, '0'))
        .service;
    const summary = rules
      .map((r) => ({
        service: targetOf(r),
        projectId: r.Properties.EventPattern.detail.projectId,
        username: r.Properties.EventPattern.detail.username,
      }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(summary).toEqual(
      [
        // Project-wide wins over the same service named for one user of that project.
        { service: ORDERS, projectId: [PROJECT_A], username: undefined },
        { service: REPORTS, projectId: [PROJECT_A], username: undefined },
        { service: BILLING, projectId: [PROJECT_B], username: ['billing'] },
        { service: ORDERS, projectId: [PROJECT_B], username: ['billing'] },
      ].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
    const transformer = rules[0]?.Properties.Targets[0].InputTransformer;
    expect(transformer.InputPathsMap).toEqual({
      'detail-projectId': '$.detail.projectId',
      'detail-username': '$.detail.username',
      'detail-serialNumber': '$.detail.serialNumber',
      time: '$.time',
      id: '$.id',
    });
  });

  it('invokes asynchronously: retried twice, then to the failure queue, never in the run', () => {
    const fn = logicalId(template, 'AWS::Lambda::Function', { Description: REDEPLOY });
    const queue = logicalId(template, 'AWS::SQS::Queue');
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fn },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [fn, 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queue, 'Arn'] } },
        }),
      ],
    });
    // Outside any VPC: it calls only the ECS API.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: REDEPLOY,
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      VpcConfig: Match.absent(),
    });
  });

  it('is absent by default', () => {
    const { template: plain } = synthDefault();
    expect(ecsStatements(plain)).toEqual([]);
    plain.resourcePropertiesCountIs('AWS::Lambda::Function', { Description: REDEPLOY }, 0);
  });

  it('refuses projects and users the config does not rotate, and unusable ARNs', () => {
    const err = caught(() =>
      synth({
        env,
        redeployEcsServices: [
          { projectId: 'ffffffffffffffffffffffff', serviceArns: [ORDERS] },
          { projectId: PROJECT_A, username: 'nobody', serviceArns: [ORDERS] },
          // PROJECT_B discovers its users: any name may come.
          { projectId: PROJECT_B, username: 'anyone', serviceArns: [] },
          {
            projectId: PROJECT_A,
            serviceArns: [
              `arn:aws:ecs:eu-west-1:${ACCOUNT}:service/orders`,
              'arn:aws:ecs:eu-west-1:444455556666:service/prod/orders',
            ],
          },
        ],
      }),
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([
      'redeployEcsServices[0].projectId: ffffffffffffffffffffffff is not a project of the rotation config',
      `redeployEcsServices[1].username: nobody is not a user of ${PROJECT_A}`,
      'redeployEcsServices[2].serviceArns: names no service',
      'redeployEcsServices[3].serviceArns[0]: not a long-format ECS service ARN (arn:aws:ecs:<region>:<account>:service/<cluster>/<service>)',
      "redeployEcsServices[3].serviceArns[1]: in account 444455556666, not this stack's",
    ]);
  });

  it('refuses a shape no compiler checked (a JavaScript app), naming the field, before anything else', () => {
    const err = caught(() =>
      synth({
        env,
        redeployEcsServices: [
          { projectId: PROJECT_A, users: ['app1'], serviceArn: ORDERS },
        ] as unknown as EcsRedeployTarget[],
      }),
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([
      'redeployEcsServices[0].serviceArns: Invalid input: expected array, received undefined',
      'redeployEcsServices[0]: Unrecognized keys: "users", "serviceArn"',
    ]);
  });
});

describe('redeployRules', () => {
  it('names each service once per project, users merged, project-wide winning', () => {
    expect(
      redeployRules([
        { projectId: 'p', username: 'a', serviceArns: ['s1'] },
        { projectId: 'p', username: 'b', serviceArns: ['s1', 's2'] },
        { projectId: 'p', serviceArns: ['s2'] },
        { projectId: 'p', username: 'c', serviceArns: ['s2'] },
      ]),
    ).toEqual([
      { service: 's1', projectId: 'p', usernames: ['a', 'b'] },
      { service: 's2', projectId: 'p', usernames: undefined },
    ]);
  });
});
