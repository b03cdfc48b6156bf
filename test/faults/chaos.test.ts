import { type ChildProcess, spawn } from 'node:child_process';
import { DeleteItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateBundle } from '../../functions/domain/certificate.js';
import type { RunReport } from '../../functions/domain/report.js';
import { storedCertificateSchema } from '../../functions/domain/stored-value.js';
import { awsProxy } from '../../tools/aws/fault-proxy.js';
import { ddb, sm } from '../../tools/aws/seed.js';
import { cliArgs } from '../../tools/cli.js';
import { Harness, P1, P2, ROOT } from '../support/harness.js';

/**
 * Chaos: the real CLI, killed with SIGKILL (its whole process group) at random moments, runs
 * sometimes overlapping, while Atlas drops create responses after minting and Secrets Manager
 * throttles writes. After every round, each user's AWSCURRENT is a valid bundle; after clean runs
 * every user holds a certificate minted here, nothing is left pending, a steady run mints
 * nothing, and every key stored nowhere is explained by a kill or a dropped response.
 *
 * Seeded (CHAOS_SEED): the seed fixes the schedule (modes, kill moments, faults); where a kill
 * lands in a run's progress still varies with the machine. CHAOS_SECONDS sets the length.
 */

const SEED = Number(process.env.CHAOS_SEED ?? 20_261_201);
const SECONDS = Number(process.env.CHAOS_SECONDS ?? 12);

// mulberry32: small, seedable, good enough to draw a schedule.
const rng = (seed: number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
};

const USERS: readonly { projectId: string; username: string }[] = [
  ...['c1', 'c2', 'c3', 'c4'].map((username) => ({ projectId: P1, username })),
  ...['c5', 'c6', 'c7', 'c8'].map((username) => ({ projectId: P2, username })),
];

interface Proc {
  clientId: string;
  child: ChildProcess;
  killed: boolean;
  done: Promise<{ code: number | null; stdout: string }>;
}

describe('chaos: SIGKILL at random moments, dropped creates, throttled writes', () => {
  let h: Harness;
  const random = rng(SEED);
  const between = (lo: number, hi: number) => lo + random() * (hi - lo);
  let accounts = 0;
  let config = '';

  beforeAll(async () => {
    h = await Harness.start();
    for (const { projectId, username } of USERS) h.sim.addUser(projectId, username);
    config = await h.writeConfig(
      h.config({
        projects: [
          { projectId: P1, users: ['c1', 'c2', 'c3', 'c4'] },
          { projectId: P2, users: ['c5', 'c6', 'c7', 'c8'] },
        ],
        // Chaos mints far more often than a real fleet would: keep the caps out of its way.
        rotation: { maxMintsPerWindow: 50, orphanLimit: 20 },
      }),
    );
  });
  afterAll(async () => {
    awsProxy().clear();
    awsProxy().random = Math.random;
    await h.close();
  });

  /** One CLI process in its own process group, with a service account of its own. */
  const start = (args: string[]): Proc => {
    accounts += 1;
    const clientId = `mdb_sa_id_chaos${accounts}`;
    const clientSecret = `mdb_sa_sk_chaos_${accounts}_${SEED}`;
    h.sim.addServiceAccount(clientId, clientSecret);
    const child = spawn(
      process.execPath,
      cliArgs('rotate', ['--config', config, '--json', ...args]),
      {
        cwd: ROOT,
        detached: true,
        env: {
          ...process.env,
          MONGODB_ATLAS_CLIENT_ID: clientId,
          MONGODB_ATLAS_CLIENT_SECRET: clientSecret,
        },
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const done = new Promise<{ code: number | null; stdout: string }>((resolve) =>
      child.once('close', (code) => resolve({ code, stdout })),
    );
    return { clientId, child, killed: false, done };
  };

  const killGroup = (p: Proc) => {
    const { exitCode, signalCode, pid } = p.child;
    if (exitCode !== null || signalCode !== null || pid === undefined) return;
    p.killed = true;
    process.kill(-pid, 'SIGKILL');
  };

  /** Every process has ended: their leases lapse, as the lease time passing would. */
  const expireLeases = async () => {
    const { Items = [] } = await ddb().send(new ScanCommand({ TableName: h.tableName }));
    for (const item of Items) {
      if (item.pk) {
        await ddb().send(new DeleteItemCommand({ TableName: h.tableName, Key: { pk: item.pk } }));
      }
    }
  };

  const stagesOf = async (name: string) => {
    try {
      const d = await sm().send(new DescribeSecretCommand({ SecretId: name }));
      return d.VersionIdsToStages ?? {};
    } catch {
      return undefined;
    }
  };

  const mintedSerials = (projectId: string, username: string) =>
    new Set(h.sim.certificates(projectId, username).map((c) => c.serialNumber));

  /** AWSCURRENT, when there is one, is a valid bundle Atlas minted for this user. */
  const checkCurrent = async (): Promise<string[]> => {
    const problems: string[] = [];
    for (const { projectId, username } of USERS) {
      const name = h.secretName(projectId, username);
      const stages = await stagesOf(name);
      if (!stages || !Object.values(stages).some((s) => s.includes('AWSCURRENT'))) continue;
      const got = await sm().send(
        new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' }),
      );
      try {
        const stored = storedCertificateSchema.parse(JSON.parse(got.SecretString ?? ''));
        const cert = validateBundle(stored.pem, {
          username,
          policy: { renewBeforeDays: undefined },
          now: new Date(),
        });
        if (!mintedSerials(projectId, username).has(cert.serialNumber)) {
          problems.push(`${username}: serial ${cert.serialNumber} was not minted by Atlas`);
        }
        if (stored.projectId !== projectId) problems.push(`${username}: wrong project`);
      } catch (err) {
        problems.push(`${username}: AWSCURRENT is not a valid bundle (${(err as Error).message})`);
      }
    }
    return problems;
  };

  /** Serials of every version ever stored, labelled or not. */
  const storedSerials = async (): Promise<Set<string>> => {
    const serials = new Set<string>();
    for (const { projectId, username } of USERS) {
      const name = h.secretName(projectId, username);
      if (!(await stagesOf(name))) continue;
      const { Versions = [] } = await sm().send(
        new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }),
      );
      for (const v of Versions) {
        const got = await sm().send(
          new GetSecretValueCommand({ SecretId: name, VersionId: v.VersionId }),
        );
        const parsed = storedCertificateSchema.safeParse(JSON.parse(got.SecretString ?? '{}'));
        if (parsed.success) serials.add(parsed.data.serialNumber);
      }
    }
    return serials;
  };

  const cleanRun = async (): Promise<RunReport> => {
    const p = start([]);
    const { stdout } = await p.done;
    return JSON.parse(stdout) as RunReport;
  };

  it(
    `holds its invariants for ${SECONDS} s (seed ${SEED})`,
    async () => {
      const proxy = awsProxy();
      proxy.clear();
      proxy.random = random;
      for (const operation of ['PutSecretValue', 'UpdateSecretVersionStage', 'CreateSecret']) {
        proxy.inject({
          operation,
          errorType: 'ThrottlingException',
          message: 'Rate exceeded',
          times: Number.POSITIVE_INFINITY,
          chance: 0.4,
        });
      }
      const began = Date.now();
      const procs: Proc[] = [];
      let rounds = 0;
      let overlappingRounds = 0;
      let dropsInjected = 0;
      while (Date.now() - began < SECONDS * 1000) {
        rounds += 1;
        const drops = random() < 0.5 ? 1 : 0;
        for (let i = 0; i < drops; i++) {
          h.sim.injectFault({
            method: 'POST',
            path: '/certs',
            action: { type: 'resetAfterProcessing' },
          });
        }
        dropsInjected += drops;
        const inRound: Proc[] = [];
        const overlapping = random() < 0.4 ? 2 : 1;
        if (overlapping > 1) overlappingRounds += 1;
        for (let i = 0; i < overlapping; i++) {
          if (i > 0) await new Promise((r) => setTimeout(r, between(0, 1_000)));
          // Most runs force a few users (as an operator would), so there are mints to interrupt;
          // the rest are scheduled-like and resume what a kill left.
          const forced = random() < 0.75;
          const only = USERS.filter(() => random() < 0.5).flatMap((u) => [
            '--only',
            `${u.projectId}:${u.username}`,
          ]);
          const args = forced && only.length > 0 ? ['--force', ...only] : [];
          const p = start(args);
          inRound.push(p);
          if (random() < 0.7) {
            // The bundled CLI starts in under half a second and a round's work takes one or two:
            // most kills land in the work, a few before it starts or after it is done.
            const at = between(150, 2_000);
            setTimeout(() => killGroup(p), at);
          }
        }
        // A run that is not killed ends by itself; none may hang.
        const guard = setTimeout(() => {
          for (const p of inRound) killGroup(p);
        }, 90_000);
        await Promise.all(inRound.map((p) => p.done));
        clearTimeout(guard);
        procs.push(...inRound);
        expect(await checkCurrent(), `after round ${rounds}`).toEqual([]);
        await expireLeases();
      }

      // Clean runs: no faults, no kills.
      const writesThrottled = [...proxy.injected.values()].reduce((a, b) => a + b, 0);
      proxy.clear();
      h.sim.clearFaults();
      const clean = await cleanRun();
      expect(clean.summary.failed).toBe(0);
      expect(await checkCurrent()).toEqual([]);
      for (const { projectId, username } of USERS) {
        const stages = await stagesOf(h.secretName(projectId, username));
        const labels = Object.values(stages ?? {}).flat();
        expect(labels, username).toContain('AWSCURRENT');
        expect(labels, username).not.toContain('AWSPENDING');
      }
      const mintsBefore = h.sim.count('POST', '/certs');
      const steady = await cleanRun();
      expect(steady.summary).toMatchObject({ rotated: 0, resumed: 0, failed: 0 });
      expect(h.sim.count('POST', '/certs')).toBe(mintsBefore);

      // Every key stored nowhere is explained by a kill or a dropped response.
      const stored = await storedSerials();
      const killed = new Set(procs.filter((p) => p.killed).map((p) => p.clientId));
      const creates = h.sim.requests.filter((r) => r.serialNumber !== undefined);
      const lost = creates.filter((r) => !stored.has(r.serialNumber ?? ''));
      const byDrop = lost.filter((r) => r.fault === 'resetAfterProcessing');
      const byKill = lost.filter(
        (r) => r.fault !== 'resetAfterProcessing' && killed.has(r.clientId ?? ''),
      );
      const unexplained = lost.filter((r) => !byDrop.includes(r) && !byKill.includes(r));
      expect(unexplained.map((r) => `${r.path} by ${r.clientId}`)).toEqual([]);

      // No process minted a user twice, besides after a dropped response.
      const perProcessUser = new Map<string, number>();
      for (const r of creates) {
        if (r.fault === 'resetAfterProcessing') continue;
        const key = `${r.clientId} ${r.path}`;
        perProcessUser.set(key, (perProcessUser.get(key) ?? 0) + 1);
      }
      expect(Math.max(0, ...perProcessUser.values())).toBeLessThanOrEqual(1);

      const figures = {
        seed: SEED,
        seconds: Math.round((Date.now() - began) / 1000),
        rounds,
        processes: procs.length,
        killed: killed.size,
        overlappingRounds,
        minted: creates.length,
        dropsInjected,
        dropped: creates.filter((r) => r.fault === 'resetAfterProcessing').length,
        keysLost: lost.length,
        lostByKill: byKill.length,
        lostByDrop: byDrop.length,
        writesThrottled,
      };
      console.log(`chaos figures: ${JSON.stringify(figures)}`);
    },
    (SECONDS + 300) * 1000,
  );
});
