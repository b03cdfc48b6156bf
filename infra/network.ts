import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { suppressGuardRule } from './guard.js';

/** Where the functions run: no VPC, a given one, or a new one with one static egress IP. */

export interface NetworkProps {
  readonly staticEgressIp?: boolean | undefined;
  readonly vpc?: ec2.IVpc | undefined;
  readonly vpcSubnets?: ec2.SubnetSelection | undefined;
}

/** Refuses props that ask for two VPCs; checked before anything is created. */
export const checkNetworkProps = (props: NetworkProps): void => {
  if (props.staticEgressIp && props.vpc) {
    throw new Error('staticEgressIp creates its own VPC: do not also pass vpc');
  }
};

/** The functions' VPC settings, as `RotatorFunction` takes them. */
export interface FunctionPlacement {
  readonly vpc: ec2.IVpc | undefined;
  readonly vpcSubnets: ec2.SubnetSelection | undefined;
  readonly securityGroups: ec2.ISecurityGroup[] | undefined;
}

export interface FunctionNetwork {
  readonly placement: FunctionPlacement;
  /** The Elastic IP address Atlas sees, with `staticEgressIp`. */
  readonly egressIp: string | undefined;
}

/** A VPC whose single NAT gateway has an Elastic IP, with flow logs. */
const staticEgressVpc = (
  scope: Construct,
  namePrefix: string,
  logRetention: logs.RetentionDays,
) => {
  const eip = new ec2.CfnEIP(scope, 'EgressIp', {
    domain: 'vpc',
    tags: [{ key: 'Name', value: `${namePrefix}-egress` }],
  });
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    maxAzs: 2,
    // One NAT gateway, one address for the Atlas access list.
    natGateways: 1,
    natGatewayProvider: ec2.NatProvider.gateway({ eipAllocationIds: [eip.attrAllocationId] }),
    subnetConfiguration: [
      // The public subnets hold only the NAT gateway, whose address is the Elastic IP above:
      // nothing there is given a public IP on launch.
      {
        name: 'Public',
        subnetType: ec2.SubnetType.PUBLIC,
        cidrMask: 24,
        mapPublicIpOnLaunch: false,
      },
      { name: 'Egress', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
    ],
    // Nothing uses the default security group, and restricting it needs a custom
    // resource Lambda of its own.
    restrictDefaultSecurityGroup: false,
  });
  const flowLogs = new logs.LogGroup(scope, 'FlowLogs', {
    retention: logRetention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  suppressGuardRule(
    flowLogs,
    'cloudwatch_log_group_encrypted_check',
    'CloudWatch Logs encrypts every log group at rest. Flow log records hold addresses, ports and byte counts, no payload: a customer managed key would add a key and its policy for no data it would protect.',
  );
  vpc.addFlowLog('FlowLog', {
    destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
    trafficType: ec2.FlowLogTrafficType.ALL,
  });
  return { vpc, egressIp: eip.attrPublicIp };
};

/** Atlas clusters listen on 27015-27017 (https://www.mongodb.com/docs/atlas/connect-to-cluster/). */
export const ATLAS_CLUSTER_PORTS = ec2.Port.tcpRange(27015, 27017);

export const functionNetwork = (
  scope: Construct,
  props: NetworkProps & {
    readonly namePrefix: string;
    readonly logRetention: logs.RetentionDays;
    /** A project checks new certificates' logins (`verify.uri`): open the cluster ports too. */
    readonly clusterEgress?: boolean | undefined;
  },
): FunctionNetwork => {
  const own = props.staticEgressIp
    ? staticEgressVpc(scope, props.namePrefix, props.logRetention)
    : undefined;
  const vpc = own ? own.vpc : props.vpc;
  const vpcSubnets = own ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } : props.vpcSubnets;
  let securityGroups: ec2.ISecurityGroup[] | undefined;
  if (vpc) {
    const group = new ec2.SecurityGroup(scope, 'FunctionSecurityGroup', {
      vpc,
      description: 'atlas-x509-rotator functions: HTTPS out to Atlas and AWS APIs only',
      allowAllOutbound: false,
    });
    group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to Atlas and AWS APIs');
    if (props.clusterEgress) {
      group.addEgressRule(
        ec2.Peer.anyIpv4(),
        ATLAS_CLUSTER_PORTS,
        'MongoDB to Atlas clusters: the login check of new certificates (verify.uri)',
      );
    }
    securityGroups = [group];
  }
  return { placement: { vpc, vpcSubnets, securityGroups }, egressIp: own?.egressIp };
};
