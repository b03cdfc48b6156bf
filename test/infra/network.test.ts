import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkNetworkProps, functionNetwork } from '../../infra/network.js';
import {
  actions,
  bySid,
  logicalId,
  ROTATE,
  roleStatements,
  synthCustomized,
  synthDefault,
} from './support.js';

describe('network, default deployment', () => {
  let template: Template;

  beforeAll(() => {
    ({ template } = synthDefault());
  });

  it('has no VPC, NAT gateway, Elastic IP or egress output by default', () => {
    for (const type of ['AWS::EC2::VPC', 'AWS::EC2::NatGateway', 'AWS::EC2::EIP']) {
      template.resourceCountIs(type, 0);
    }
    expect(template.findOutputs('EgressIp')).toEqual({});
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.VpcConfig).toBeUndefined();
    }
  });
});

describe('network, static egress IP', () => {
  let template: Template;

  beforeAll(() => {
    ({ template } = synthCustomized());
  });

  it('puts both functions in a VPC whose one NAT gateway has the Elastic IP, and outputs it', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.resourceCountIs('AWS::EC2::EIP', 1);
    const eip = logicalId(template, 'AWS::EC2::EIP');
    template.hasResourceProperties('AWS::EC2::NatGateway', {
      AllocationId: { 'Fn::GetAtt': [eip, 'AllocationId'] },
    });
    template.hasOutput('EgressIp', { Value: { 'Fn::GetAtt': [eip, 'PublicIp'] } });
    const group = logicalId(template, 'AWS::EC2::SecurityGroup');
    template.allResourcesProperties('AWS::Lambda::Function', {
      VpcConfig: {
        SecurityGroupIds: [{ 'Fn::GetAtt': [group, 'GroupId'] }],
        SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('EgressSubnet') }]),
      },
    });
    // HTTPS to the APIs; with a project's verify.uri, Atlas's cluster ports for the login check.
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: [
        Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 }),
        Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 27015, ToPort: 27017 }),
      ],
    });
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
  });

  it('gives nothing a public IP on launch, in the public subnets either', () => {
    const subnets = Object.values(template.findResources('AWS::EC2::Subnet'));
    expect(subnets).toHaveLength(4);
    for (const subnet of subnets) expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
  });

  it('lets the functions manage their network interfaces', () => {
    const rotate = roleStatements(template, ROTATE);
    expect(bySid(rotate, 'ManageVpcNetworkInterfaces').Resource).toBe('*');
    expect(actions(bySid(rotate, 'ManageVpcNetworkInterfaces'))).toContain(
      'ec2:CreateNetworkInterface',
    );
  });
});

describe('checkNetworkProps', () => {
  it('refuses a VPC of its own together with a given one', () => {
    const vpc = {} as ec2.IVpc;
    expect(() => checkNetworkProps({ staticEgressIp: true, vpc })).toThrow(/do not also pass vpc/);
    expect(() => checkNetworkProps({ vpc })).not.toThrow();
    expect(() => checkNetworkProps({ staticEgressIp: true })).not.toThrow();
  });
});

describe('functionNetwork in a given VPC', () => {
  it('opens HTTPS only, unless a project checks logins (then Atlas cluster ports 27015-27017)', () => {
    const egressOf = (clusterEgress: boolean) => {
      const stack = new Stack();
      const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
        vpcId: 'vpc-1',
        availabilityZones: ['eu-west-1a'],
        privateSubnetIds: ['subnet-1'],
      });
      functionNetwork(stack, {
        vpc,
        namePrefix: 'rotator',
        logRetention: RetentionDays.ONE_DAY,
        clusterEgress,
      });
      return Object.values(
        Template.fromStack(stack).findResources('AWS::EC2::SecurityGroup'),
      ).flatMap((g) => g.Properties.SecurityGroupEgress);
    };
    const https = expect.objectContaining({ FromPort: 443, ToPort: 443 });
    expect(egressOf(false)).toEqual([https]);
    expect(egressOf(true)).toEqual([
      https,
      expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 27015, ToPort: 27017 }),
    ]);
  });
});
