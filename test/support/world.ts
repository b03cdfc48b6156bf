import pLimit from 'p-limit';
import { beforeAll } from 'vitest';
import { parseConfig } from '../../functions/domain/config/resolve.js';
import type { RawConfig } from '../../functions/domain/config/schema.js';
import type { RotatorConfig } from '../../functions/domain/config/types.js';
import type { RunReport, UserReport } from '../../functions/domain/report.js';
import {
  type RotationContext,
  type RotationRequest,
  runRotation,
  type UserRef,
} from '../../functions/domain/rotation/index.js';
import type { UserPace } from '../../functions/domain/rotation/ports.js';
import { fixedPace } from '../../functions/domain/rotation/run-state.js';
import { FakeAtlas, type FakeCertificate } from './fakes/atlas.js';
import { FakeClock } from './fakes/clock.js';
import { P1 } from './fakes/fixtures.js';
import { FakeLeases } from './fakes/leases.js';
import { RecordingLog } from './fakes/log.js';
import { type CertDates, type TestPki, testPki } from './fakes/pki.js';
import { FakeSecretStore } from './fakes/secret-store.js';

/**
 * A fake world: the engine's context over the in-memory stand-ins for its ports
 * (`functions/domain/rotation/ports.ts`, one fake per port in `fakes/`), and the helpers tests
 * use to seed it, run it and read its report.
 */

export interface FakeContext extends RotationContext {
  atlas: FakeAtlas;
  store: FakeSecretStore;
  leases: FakeLeases;
  clock: FakeClock;
  log: RecordingLog;
}

export interface FakeContextOptions
  extends Partial<Pick<RotationContext, 'deadline' | 'tuning' | 'pace' | 'runId' | 'consumers'>> {
  pki: TestPki;
  /** Shorthand for a pace that says every project is paused while this is true. */
  paused?: () => boolean;
  /** @default one project, P1, with the user app1 */
  config?: RawConfig;
  now?: Date;
}

export const fakeContext = (options: FakeContextOptions): FakeContext => {
  const { pki, config, now, paused, ...rest } = options;
  const clock = new FakeClock(now);
  const parsed: RotatorConfig = parseConfig(
    config ?? { projects: [{ projectId: P1, users: ['app1'] }] },
  );
  if (paused) rest.pace ??= pausedPace(paused, parsed.rotation.concurrency);
  const runId = rest.runId ?? 'run-test';
  return {
    config: parsed,
    atlas: new FakeAtlas(clock, pki),
    store: new FakeSecretStore(clock),
    leases: new FakeLeases(clock, runId, parsed.locks.leaseSeconds * 1000),
    log: new RecordingLog(),
    clock,
    ...rest,
    runId,
  };
};

/** Users under one limit, every project paused while `paused()` says so. */
export const pausedPace = (paused: () => boolean, concurrency = 64): UserPace => ({
  ...fixedPace(pLimit(concurrency)),
  paused: () => paused(),
});

/** The user's settings as the config resolves them (listed users only). */
export const userOf = (ctx: FakeContext, projectId: string, username: string) => {
  const user = ctx.config.projects
    .find((p) => p.projectId === projectId)
    ?.users.find((u) => u.username === username);
  if (!user) throw new Error(`${projectId}:${username} is not in the test config`);
  return user;
};

/** A certificate Atlas lists and the user's secret holds as AWSCURRENT. */
export const holding = async (
  ctx: FakeContext,
  ref: UserRef,
  dates: CertDates,
  options: { stage?: string; recorded?: boolean } = {},
): Promise<FakeCertificate> => {
  const user = userOf(ctx, ref.projectId, ref.username);
  const cert = await ctx.atlas.seed(ref.projectId, ref.username, dates, {
    recorded: options.recorded,
  });
  ctx.store.seedCertificate(user, cert.minted, { stage: options.stage });
  return cert;
};

export const rotate = (
  ctx: FakeContext,
  request: Partial<RotationRequest> = {},
): Promise<RunReport> => runRotation(ctx, { dryRun: false, force: false, ...request });

export const rowOf = (report: RunReport, username: string, projectId = P1): UserReport => {
  const row = report.users.find((u) => u.username === username && u.projectId === projectId);
  if (!row) throw new Error(`no row for ${projectId}:${username}`);
  return row;
};

/**
 * For a test file: makes its keys once (`beforeAll`; RSA key generation is the slow part) and
 * returns a builder of fresh fake worlds that share them.
 */
export const fakeWorlds = (): ((options?: Omit<FakeContextOptions, 'pki'>) => FakeContext) => {
  let pki: TestPki | undefined;
  beforeAll(async () => {
    pki = await testPki();
  });
  return (options = {}) => {
    if (!pki) throw new Error('fakeWorlds(): a world was built before beforeAll ran');
    return fakeContext({ pki, ...options });
  };
};
