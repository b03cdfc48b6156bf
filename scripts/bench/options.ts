import { parseArgs } from 'node:util';
import type { RateLimitOptions } from '../../tools/simulator/rate-limit.js';

/** Latencies from recorded Atlas traffic (ms). */
export const LIST_MS = 55;
export const CREATE_MS = 870;
/** The rotator's pace per write family (`WRITES_PER_SECOND` in write-pace.ts). */
export const WRITE_PACE = 40;
export const GENEROUS: RateLimitOptions = { capacity: 100, refillPerSecond: 100, scope: 'shared' };
export const PER_PROJECT: RateLimitOptions = {
  capacity: 20,
  refillPerSecond: 5,
  scope: 'project',
};
export const STINGY: RateLimitOptions = {
  capacity: 10,
  refillPerSecond: 5 / 60,
  scope: 'project',
};
/** A Lambda's budget, and the catch-up schedule's tick, as deployed. */
export const LAMBDA_S = 900;
export const TICK_S = 20 * 60;

export const { values: flags } = parseArgs({
  options: {
    full: { type: 'string', default: '100,1000,10000' },
    steady: { type: 'string', default: '100,1000' },
    projects: { type: 'string', default: '40x25' },
    stingy: { type: 'string', default: '200' },
    scale: { type: 'string', default: '30' },
    auth: { type: 'string', default: 'oauth' },
    only: { type: 'string', default: 'full,steady,projects,stingy' },
  },
});

export const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

export const projectId = (i: number): string => `${'b0'.repeat(10)}${String(i).padStart(4, '0')}`;

/** Secrets Manager's write families (its quotas page): the actions that share a quota. */
export const FAMILIES: Record<string, string> = {
  CreateSecret: 'CreateSecret',
  PutSecretValue: 'PutSecretValue/UpdateSecretVersionStage',
  UpdateSecretVersionStage: 'PutSecretValue/UpdateSecretVersionStage',
  ReplicateSecretToRegions: 'PutSecretValue/UpdateSecretVersionStage',
  TagResource: 'TagResource/UntagResource',
  UntagResource: 'TagResource/UntagResource',
  PutResourcePolicy: 'Put/Get/DeleteResourcePolicy',
  GetResourcePolicy: 'Put/Get/DeleteResourcePolicy',
  DeleteResourcePolicy: 'Put/Get/DeleteResourcePolicy',
  DeleteSecret: 'DeleteSecret',
};
