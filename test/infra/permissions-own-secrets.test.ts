import {
  CreateSecretCommand,
  type CreateSecretCommandInput,
  PutResourcePolicyCommand,
  ReplicateSecretToRegionsCommand,
  SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MANAGED_BY_TAG,
  MANAGED_BY_VALUE,
  PROJECT_ID_TAG,
  USERNAME_TAG,
} from '../../functions/adapters/aws/secret-store/tags.js';
import { SecretStore } from '../../functions/adapters/aws/secret-store.js';
import type { RawConfig } from '../../functions/domain/config/schema.js';
import type { SecretState } from '../../functions/domain/stored-value.js';
import {
  type ContextValue,
  type IamRequest,
  isAllowed,
  requestTags,
  resourceTags,
} from './iam-eval.js';
import { bySid, exampleConfig, ROTATE, roleStatements, type Statement, synth } from './support.js';

// #25.4: the rotate role cannot harm a secret it did not create. Asserted on the synthesized
// policy (Template.fromStack) and by evaluating it on the requests the secret store really sends
// (aws-sdk-client-mock): moto_server does not enforce IAM, so no run against it can show this.

const ARN_PREFIX = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:';
const FOREIGN = `${ARN_PREFIX}atlas-x509/5e2211c17a3e5a48f5497de3/other-tool-AbCdEf`;
const OWN = `${ARN_PREFIX}atlas-x509/5e2211c17a3e5a48f5497de3/app1-AbCdEf`;
const OWN_TAGS = [
  { Key: MANAGED_BY_TAG, Value: MANAGED_BY_VALUE },
  { Key: PROJECT_ID_TAG, Value: '5e2211c17a3e5a48f5497de3' },
  { Key: USERNAME_TAG, Value: 'app1' },
];

const secret = (arn: string): SecretState => ({
  name: arn.slice(ARN_PREFIX.length, -7),
  arn,
  createdDate: new Date(0),
  deletedDate: undefined,
  versions: new Map(),
  currentVersionId: undefined,
  pendingVersionId: undefined,
  current: undefined,
  notAfterHint: undefined,
});

/** A call on an existing secret, carrying the secret's own tags. */
const onSecret = (
  action: string,
  arn: string,
  tags: readonly { Key?: string; Value?: string }[],
  context: Record<string, ContextValue | undefined> = {},
): IamRequest => ({
  action: `secretsmanager:${action}`,
  resource: arn,
  context: { 'secretsmanager:SecretId': arn, ...resourceTags(tags), ...context },
});

/**
 * The actions a CreateSecret is authorized as, on the new secret. Two readings of what the
 * implied TagResource sees: the new secret's tags are the request's (and its id is known), or
 * neither is there; the create must pass under each alone.
 */
const createRequests = (
  input: CreateSecretCommandInput,
  reading: 'resource-tags' | 'nothing-yet',
): IamRequest[] => {
  const arn = `${ARN_PREFIX}${input.Name}-AbCdEf`;
  const tags = input.Tags ?? [];
  const context: Record<string, ContextValue | undefined> = {
    'secretsmanager:Name': input.Name,
    ...requestTags(tags),
    ...(input.AddReplicaRegions
      ? { 'secretsmanager:AddReplicaRegions': input.AddReplicaRegions.map((r) => r.Region ?? '') }
      : {}),
    ...(input.ForceOverwriteReplicaSecret !== undefined
      ? { 'secretsmanager:ForceOverwriteReplicaSecret': String(input.ForceOverwriteReplicaSecret) }
      : {}),
    ...(reading === 'resource-tags'
      ? { ...resourceTags(tags), 'secretsmanager:SecretId': arn }
      : {}),
  };
  const actions = [
    'CreateSecret',
    ...(tags.length > 0 ? ['TagResource'] : []),
    ...(input.AddReplicaRegions ? ['ReplicateSecretToRegions'] : []),
  ];
  return actions.map((a) => ({ action: `secretsmanager:${a}`, resource: arn, context }));
};

const withReplicas = (): RawConfig => {
  const config = exampleConfig();
  return { ...config, defaults: { ...config.defaults, replicaRegions: ['eu-central-1'] } };
};

const sm = mockClient(SecretsManagerClient);
afterAll(() => sm.restore());

describe('the rotate role and secrets it did not create', () => {
  let statements: Statement[];
  let created: CreateSecretCommandInput;
  beforeAll(async () => {
    statements = roleStatements(synth({ config: withReplicas() }).template, ROTATE);
    sm.reset();
    sm.on(CreateSecretCommand).resolves({ ARN: `${OWN}` });
    await new SecretStore(new SecretsManagerClient({})).create(
      'atlas-x509/5e2211c17a3e5a48f5497de3/app1',
      {
        projectId: '5e2211c17a3e5a48f5497de3',
        username: 'app1',
        kmsKeyId: 'alias/atlas-x509-rotator',
        replicaRegions: [{ region: 'eu-central-1', kmsKeyId: undefined }],
      },
    );
    created = sm.commandCalls(CreateSecretCommand)[0]?.args[0].input as CreateSecretCommandInput;
  });

  it('cannot put its managed-by tag on an existing secret, so cannot then delete or unreplicate it', () => {
    for (const tags of [
      [{ Key: MANAGED_BY_TAG, Value: MANAGED_BY_VALUE }],
      OWN_TAGS,
      created.Tags ?? [],
    ]) {
      expect(isAllowed(statements, onSecret('TagResource', FOREIGN, [], requestTags(tags)))).toBe(
        false,
      );
    }
    expect(isAllowed(statements, onSecret('DeleteSecret', FOREIGN, []))).toBe(false);
    expect(isAllowed(statements, onSecret('RemoveRegionsFromReplication', FOREIGN, []))).toBe(
      false,
    );
    // Its own (tagged at creation) empty secret it may still remove.
    expect(isAllowed(statements, onSecret('DeleteSecret', OWN, OWN_TAGS))).toBe(true);
    expect(isAllowed(statements, onSecret('RemoveRegionsFromReplication', OWN, OWN_TAGS))).toBe(
      true,
    );
  });

  it('creates its secrets with the managed-by tag in CreateSecret, allowed under either reading', () => {
    expect(created.Tags).toContainEqual({ Key: MANAGED_BY_TAG, Value: MANAGED_BY_VALUE });
    expect(created.ForceOverwriteReplicaSecret).toBe(false);
    for (const reading of ['resource-tags', 'nothing-yet'] as const) {
      for (const req of createRequests(created, reading)) {
        expect({ reading, action: req.action, allowed: isAllowed(statements, req) }).toEqual({
          reading,
          action: req.action,
          allowed: true,
        });
      }
      // Without the tag, or overwriting a replica, it may not create.
      const untagged = { ...created, Tags: created.Tags?.filter((t) => t.Key !== MANAGED_BY_TAG) };
      expect(createRequests(untagged, reading).every((r) => isAllowed(statements, r))).toBe(false);
      const overwriting = { ...created, ForceOverwriteReplicaSecret: true };
      expect(createRequests(overwriting, reading).every((r) => isAllowed(statements, r))).toBe(
        false,
      );
    }
  });

  it('tags existing secrets only with the tags each run keeps, as the store sends them', async () => {
    sm.reset();
    sm.on(TagResourceCommand).resolves({});
    const store = new SecretStore(new SecretsManagerClient({}));
    const target = secret(OWN);
    await store.tag(target, {
      notAfter: new Date('2027-01-01T00:00:00Z'),
      policy: 'none',
      replicas: { regions: ['eu-central-1'], verified: undefined },
      ownAccess: new Date('2026-12-01T00:00:00Z'),
    });
    await store.tagOrphans(target, ['12345']);
    const sent = sm.commandCalls(TagResourceCommand).map((c) => c.args[0].input);
    expect(sent).toHaveLength(2);
    for (const input of sent) {
      expect(input.Tags?.map((t) => t.Key)).not.toContain(MANAGED_BY_TAG);
      expect(
        isAllowed(
          statements,
          onSecret('TagResource', OWN, OWN_TAGS, requestTags(input.Tags ?? [])),
        ),
      ).toBe(true);
    }
  });

  it('replicates only with ForceOverwriteReplicaSecret false, which the store always sends', async () => {
    sm.reset();
    sm.on(ReplicateSecretToRegionsCommand).resolves({});
    await new SecretStore(new SecretsManagerClient({})).replicate(secret(OWN), [
      { region: 'eu-central-1', kmsKeyId: undefined },
    ]);
    const input = sm.commandCalls(ReplicateSecretToRegionsCommand)[0]?.args[0].input;
    expect(input).toEqual({
      SecretId: OWN,
      AddReplicaRegions: [{ Region: 'eu-central-1' }],
      ForceOverwriteReplicaSecret: false,
    });
    const replicate = (force: string | undefined) =>
      onSecret('ReplicateSecretToRegions', OWN, OWN_TAGS, {
        'secretsmanager:AddReplicaRegions': ['eu-central-1'],
        'secretsmanager:ForceOverwriteReplicaSecret': force,
      });
    expect(isAllowed(statements, replicate(String(input?.ForceOverwriteReplicaSecret)))).toBe(true);
    expect(isAllowed(statements, replicate('true'))).toBe(false);
    expect(isAllowed(statements, replicate(undefined))).toBe(false);
    expect(bySid(statements, 'ReplicateCertificateSecrets').Condition).toMatchObject({
      Bool: { 'secretsmanager:ForceOverwriteReplicaSecret': 'false' },
    });
  });

  it('puts resource policies only with BlockPublicPolicy true, which the store always sends', async () => {
    sm.reset();
    sm.on(PutResourcePolicyCommand).resolves({});
    await new SecretStore(new SecretsManagerClient({})).putPolicy(secret(OWN), '{"Statement":[]}');
    const input = sm.commandCalls(PutResourcePolicyCommand)[0]?.args[0].input;
    expect(input?.BlockPublicPolicy).toBe(true);
    const put = (block: string | undefined) =>
      onSecret('PutResourcePolicy', OWN, OWN_TAGS, { 'secretsmanager:BlockPublicPolicy': block });
    expect(isAllowed(statements, put(String(input?.BlockPublicPolicy)))).toBe(true);
    expect(isAllowed(statements, put('false'))).toBe(false);
    expect(isAllowed(statements, put(undefined))).toBe(false);
    // No other statement grants PutResourcePolicy.
    const granting = statements.filter((s) =>
      [s.Action].flat().includes('secretsmanager:PutResourcePolicy'),
    );
    expect(granting.map((s) => s.Sid)).toEqual(['PutConsumersPolicy']);
    expect(bySid(statements, 'PutConsumersPolicy').Condition).toEqual({
      Bool: { 'secretsmanager:BlockPublicPolicy': 'true' },
    });
  });

  it('grants TagResource only in the creation statements and the upkeep statement', () => {
    const tagging = statements.filter((s) =>
      [s.Action].flat().includes('secretsmanager:TagResource'),
    );
    expect(tagging.map((s) => s.Sid)).toEqual([
      'CreateOwnSecrets',
      'CreateOwnSecretsNamingNone',
      'TagCertificateSecrets',
    ]);
    const upkeep = bySid(statements, 'TagCertificateSecrets').Condition?.[
      'ForAllValues:StringEquals'
    ]?.['aws:TagKeys'] as string[];
    expect(upkeep).not.toContain(MANAGED_BY_TAG);
    expect(bySid(statements, 'CreateOwnSecrets').Condition).toMatchObject({
      StringEquals: {
        [`aws:RequestTag/${MANAGED_BY_TAG}`]: MANAGED_BY_VALUE,
        [`aws:ResourceTag/${MANAGED_BY_TAG}`]: MANAGED_BY_VALUE,
      },
    });
    expect(bySid(statements, 'CreateOwnSecretsNamingNone').Condition).toMatchObject({
      StringEquals: { [`aws:RequestTag/${MANAGED_BY_TAG}`]: MANAGED_BY_VALUE },
      Null: { 'secretsmanager:SecretId': 'true' },
    });
  });
});
