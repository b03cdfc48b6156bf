import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig, type RawConfig, secretNameFor } from '../../functions/config.js';
import { silentLog } from '../../functions/log.js';
import type { RunReport } from '../../functions/report.js';
import type { RotationRequest, RotationTuning } from '../../functions/rotation.js';
import { rotateWithConfig } from '../../functions/runtime.js';
import { AtlasSimulator, type AtlasSimulatorOptions } from '../simulator/atlas-simulator.js';
import { createLeaseTable, type SeedCertificate, seedSecret } from './aws.js';

export const P1 = '5e2211c17a3e5a48f5497de3';
export const P2 = '6a1f00aa00bb00cc00dd00ee';
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * One isolated world per test: a fresh Atlas simulator with a service account, a unique secret
 * prefix and lease table in the shared moto_server, and helpers to run the CLI (a real child
 * process) or the same run in-process.
 */
export class Harness {
  readonly clientId = `mdb_sa_id_${randomBytes(4).toString('hex')}`;
  readonly clientSecret = `mdb_sa_sk_${randomBytes(16).toString('hex')}`;
  readonly prefix = `t${randomBytes(5).toString('hex')}/`;
  readonly tableName = `locks-${randomBytes(5).toString('hex')}`;

  private constructor(
    readonly sim: AtlasSimulator,
    readonly dir: string,
  ) {}

  static async start(options: AtlasSimulatorOptions = {}): Promise<Harness> {
    const sim = await AtlasSimulator.start(options);
    const h = new Harness(sim, await mkdtemp(join(tmpdir(), 'rotator-')));
    sim.addServiceAccount(h.clientId, h.clientSecret);
    await createLeaseTable(h.tableName);
    return h;
  }

  async close(): Promise<void> {
    await this.sim.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Atlas credentials for the simulator's service account, as the CLI reads them. */
  get atlasEnv(): Record<string, string> {
    return {
      MONGODB_ATLAS_CLIENT_ID: this.clientId,
      MONGODB_ATLAS_CLIENT_SECRET: this.clientSecret,
    };
  }

  /** A config pointing at this world; `projects` is required, the rest defaults here. */
  config(overrides: Partial<RawConfig> & Pick<RawConfig, 'projects'>): RawConfig {
    return {
      atlas: { baseUrl: this.sim.baseUrl },
      defaults: { secretNamePrefix: this.prefix },
      locks: { tableName: this.tableName },
      ...overrides,
    };
  }

  async writeConfig(config: RawConfig | Record<string, unknown>): Promise<string> {
    const path = join(this.dir, `config-${randomBytes(3).toString('hex')}.json`);
    await writeFile(path, JSON.stringify(config, null, 2));
    return path;
  }

  secretName(projectId: string, username: string): string {
    return secretNameFor(this.prefix, projectId, username);
  }

  /** Runs the rotation in-process, exactly as the CLI and handler do. */
  run(
    config: RawConfig,
    request: Partial<RotationRequest> = {},
    extra: {
      now?: () => Date;
      deadline?: () => number;
      env?: Record<string, string>;
      tuning?: Partial<RotationTuning>;
    } = {},
  ): Promise<RunReport> {
    return rotateWithConfig({
      config: parseConfig(config),
      request: { dryRun: false, force: false, ...request },
      log: silentLog,
      env: extra.env ?? this.atlasEnv,
      now: extra.now,
      deadline: extra.deadline,
      tuning: extra.tuning,
    });
  }

  /** Runs the real `rotate` CLI in a child process. */
  cli(args: string[], env: Record<string, string> = this.atlasEnv): Promise<CliResult> {
    return runCli('rotate', args, env);
  }

  /** Runs the real `disable-customer-x509` CLI in a child process. */
  disableCli(args: string[], env: Record<string, string> = this.atlasEnv): Promise<CliResult> {
    return runCli('disable-customer-x509', args, env);
  }

  /** Mints a certificate in the simulator and stores it as the user's current secret. */
  async seed(
    projectId: string,
    username: string,
    opts: { notBefore?: Date; notAfter?: Date; months?: number } = {},
  ): Promise<SeedCertificate> {
    const minted = await this.sim.mintCertificate(projectId, username, opts);
    await seedSecret(this.secretName(projectId, username), { projectId, username }, minted);
    return minted;
  }
}

/** Spawns `functions/cli.ts <command>` under tsx with the given extra environment. */
export const runCli = (
  command: 'rotate' | 'disable-customer-x509',
  args: string[],
  env: Record<string, string>,
): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'functions/cli.ts', command, ...args],
      {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });

/** Days from now, as a Date. */
export const daysFromNow = (days: number): Date => new Date(Date.now() + days * 86_400_000);
