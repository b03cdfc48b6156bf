/**
 * The one place where a documented block or command is NOT executed as it stands, each with its
 * reason. An entry names its file and a text only that block (or command) contains; an entry
 * that names nothing any more fails the suite, so this list cannot outlive the docs.
 */

export interface Listed {
  file: string;
  /** A text the block or command contains, and no other of the same file. */
  contains: string;
  reason: string;
}

/** Blocks that are no command, payload, config or code: shown, not run. */
export const ILLUSTRATIVE: Listed[] = [
  {
    file: 'README.md',
    contains: 'npm run demo: moto_server (moto 5.x) is not on the PATH',
    reason:
      'output, not input: the line the prerequisites check prints; test/scripts/prerequisites.test.ts asserts it word for word',
  },
  {
    file: 'README.md',
    contains: 'domain/                 pure:',
    reason: 'a tree of the sources, not a command: test/docs/file-map.test.ts checks it',
  },
  {
    file: 'docs/architecture.md',
    contains: 'runtime.ts ── builds the adapters',
    reason: 'a diagram of the layers; Biome enforces who imports whom',
  },
  {
    file: 'docs/architecture.md',
    contains: 'bin.ts                  the atlas-x509-rotator command',
    reason: 'the file map, a tree: test/docs/file-map.test.ts checks it',
  },
  {
    file: 'docs/runbook.md',
    contains: "filter message = 'user done'",
    reason:
      "a CloudWatch Logs Insights query: it runs only in CloudWatch; the `user done` line it reads is the logger's (functions/domain/rotation)",
  },
  {
    file: 'docs/consumers.md',
    contains: 'kind: ExternalSecret',
    reason:
      'a Kubernetes manifest of External Secrets Operator, a third-party controller this suite does not run',
  },
];

/**
 * Commands that need a real AWS account (or a deployed stack) and are therefore checked by
 * parsing only: for `aws`, against the AWS CLI's own service model (service, operation, every
 * option, JSON arguments); for `cdk`, that the command exists.
 */
export const NOT_RUN: Listed[] = [
  {
    file: 'docs/deploy.md',
    contains: 'aws secretsmanager put-secret-value',
    reason: 'fills the credentials secret of a deployed stack',
  },
  {
    file: 'docs/deploy.md',
    contains: 'aws sns subscribe',
    reason: 'subscribes to the alarm topic of a deployed stack (and sends a real email)',
  },
  {
    file: 'docs/deploy.md',
    contains: 'aws ec2 describe-managed-prefix-lists',
    reason: "AWS-managed prefix lists exist only in AWS (moto has no Secrets Manager's list)",
  },
  {
    file: 'docs/deploy.md',
    contains: 'aws ec2 get-managed-prefix-list-entries',
    reason: 'the entries of an AWS-managed prefix list exist only in AWS',
  },
  {
    file: 'docs/deploy.md',
    contains: 'aws secretsmanager get-secret-value --region eu-west-1',
    reason: 'reads a replica in another Region, which only a deployment with replicaRegions has',
  },
  {
    file: 'docs/runbook.md',
    contains: 'aws sqs receive-message',
    reason: 'reads the failure queue of a deployed stack',
  },
  {
    file: 'README.md',
    contains: 'aws dynamodb create-table --table-name atlas-x509-rotator-locks',
    reason:
      'creates the table in the account at hand; the suite creates the same table on moto_server through the SDK (tools/aws/seed.ts) and runs "Run it locally", which creates it with this command',
  },
  {
    file: 'examples/cdk-app/README.md',
    contains: 'npx cdk bootstrap',
    reason: "bootstraps a real account and Region (CDK's own command)",
  },
];

/**
 * npm scripts the docs name that the suite checks exist (in the package.json of the app the doc
 * speaks of) but does not start here, by script name.
 */
export const NPM_NOT_RUN: Record<string, string> = {
  ci: 'installs from the registry; the suite runs inside an install',
  install:
    'installs from the registry; test/package/pack-install.test.ts installs the packed package',
  test: 'the suite itself',
  demo: 'about 50 s with its own moto_server and simulator; "Run it locally" runs the same steps by hand here',
  build:
    "the suite's global setup builds the bundles (scripts/build.ts) and test/package/pack-install.test.ts the library",
  'synth:check': 'test/infra/synth-check.test.ts runs it (about 55 s)',
  'test:faults': 'the fault suite, its own vitest project',
  bench: 'about 15 minutes against a rate-limited simulator (docs/performance.md)',
  scenarios: 'about 5 minutes; test/faults/scenarios.test.ts runs the same scenarios',
  format: 'rewrites files in place',
  simulator: 'a server that runs until stopped; "Run it locally" starts the same simulator',
  'atlas-spec': "downloads Atlas's OpenAPI spec from GitHub",
};

/**
 * Shell blocks run as one script, in order, because their commands depend on each other
 * (background services, exported variables, a file written by a here-document).
 */
export const SCRIPTS: Listed[] = [
  {
    file: 'README.md',
    contains: 'moto_server -p 5000',
    reason: 'the local walk-through: its own moto_server and simulator, then the CLI',
  },
];

/**
 * Checks expected to fail on this branch because they document work another branch of the same
 * change does (docs written to the decisions first). A listed check that passes fails the suite:
 * remove it here once that work is merged.
 */
export const PENDING: (Listed & { dependsOn: string })[] = [];
