import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../functions/domain/config/resolve.js';
import type { RawConfig } from '../../functions/domain/config/schema.js';
import { secretNameFor } from '../../functions/domain/config/secret-name.js';
import type { Log } from '../../functions/domain/log.js';
import type { RunReport, UserReport } from '../../functions/domain/report.js';
import type { RotationRequest, RotationTuning } from '../../functions/domain/rotation/index.js';
import { type RunOptions, rotateWithConfig } from '../../functions/runtime.js';
import { createLeaseTable, type SeedCertificate, seedSecret } from '../../tools/aws/seed.js';
import { type CliResult, runCli } from '../../tools/cli.js';
import {
  AtlasSimulator,
  type AtlasSimulatorOptions,
} from '../../tools/simulator/atlas-simulator.js';
import { generateRsaKeyPair, type RsaKeyPair } from '../../tools/simulator/pki.js';
import { CapturingLogger } from './capture-log.js';

export const P1 = '5e2211c17a3e5a48f5497de3';
export const P2 = '6a1f00aa00bb00cc00dd00ee';
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * One isolated world per test: a fresh Atlas simulator with a service account, a unique secret
 * prefix and lease table in the shared moto_server, and helpers to run the CLI (a real child
 * process) or the same run in-process.
 */
/** Key-holding writes retried at a twentieth of the shipped pace, within 5 s. */
export const FAST_KEY_WRITES = {
  baseDelayMs: 25,
  maxDelayMs: 250,
  budgetMs: 5_000,
  attemptTimeoutMs: 1_000,
};

/** Four RSA keys per test process, reused by every simulator it starts (round-robin). */
let sharedKeys: Promise<RsaKeyPair[]> | undefined;

export class Harness {
  readonly clientId = `mdb_sa_id_${randomBytes(12).toString('hex')}`;
  readonly clientSecret = `mdb_sa_sk_${randomBytes(16).toString('hex')}`;
  readonly prefix = `t${randomBytes(5).toString('hex')}/`;
  readonly tableName = `locks-${randomBytes(5).toString('hex')}`;
  /** Every log line of in-process runs (at DEBUG), for leak scans. */
  readonly logLines: string[] = [];
  /** Every report and CLI output of this world, for leak scans and the fault table. */
  readonly reports: RunReport[] = [];
  readonly outputs: string[] = [];

  private constructor(
    readonly sim: AtlasSimulator,
    readonly dir: string,
  ) {}

  static async start(options: AtlasSimulatorOptions = {}): Promise<Harness> {
    sharedKeys ??= Promise.all(Array.from({ length: 4 }, () => generateRsaKeyPair(2048)));
    const sim = await AtlasSimulator.start({ keys: await sharedKeys, ...options });
    const h = new Harness(sim, await mkdtemp(join(tmpdir(), 'rotator-')));
    sim.addServiceAccount(h.clientId, h.clientSecret);
    sim.addProject(P1);
    sim.addProject(P2);
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

  /**
   * `atlasEnv` as an operator's shell has it: no POWERTOOLS_LOG_LEVEL (the suite's own is
   * SILENT), so a spawned CLI logs what it logs by default.
   */
  get operatorEnv(): Readonly<Record<string, string | undefined>> {
    return { ...this.atlasEnv, POWERTOOLS_LOG_LEVEL: undefined };
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
      log?: Log;
      atlasClient?: RunOptions['atlasClient'];
      keyWriteRetry?: RunOptions['keyWriteRetry'];
      trigger?: RunOptions['trigger'];
    } = {},
  ): Promise<RunReport> {
    return rotateWithConfig({
      config: parseConfig(config),
      request: { dryRun: false, force: false, ...request },
      log: extra.log ?? new CapturingLogger(this.logLines),
      env: extra.env ?? this.atlasEnv,
      atlasClient: extra.atlasClient,
      now: extra.now,
      deadline: extra.deadline,
      tuning: extra.tuning,
      trigger: extra.trigger,
      // The same retries, faster: the shipped backoff and budget are unit-tested on their own.
      keyWriteRetry: extra.keyWriteRetry ?? FAST_KEY_WRITES,
    }).then((report) => {
      this.reports.push(report);
      return report;
    });
  }

  /** Runs the real `rotate` CLI in a child process. */
  async cli(
    args: string[],
    env: Readonly<Record<string, string | undefined>> = this.atlasEnv,
  ): Promise<CliResult> {
    return this.captured(await runCli('rotate', args, env));
  }

  /** Runs the real `disable-customer-x509` CLI in a child process. */
  async disableCli(
    args: string[],
    env: Record<string, string> = this.atlasEnv,
  ): Promise<CliResult> {
    return this.captured(await runCli('disable-customer-x509', args, env));
  }

  private captured(result: CliResult): CliResult {
    this.outputs.push(result.stdout, result.stderr);
    return result;
  }

  /**
   * What of the world's secrets appears in any log line, report or CLI output: private-key
   * markers, the service account secret, any API private key given, any bearer token issued.
   */
  leaks(extraSecrets: readonly string[] = []): string[] {
    const text = [
      ...this.logLines,
      ...this.reports.map((r) => JSON.stringify(r)),
      ...this.outputs,
    ].join('\n');
    const found: string[] = [];
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) found.push('private key');
    if (text.includes(this.clientSecret)) found.push('client secret');
    for (const secret of extraSecrets) if (text.includes(secret)) found.push('secret');
    if (this.sim.issuedTokens.some((t) => text.includes(t))) found.push('bearer token');
    return found;
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

  /** A user whose stored certificate is due, with `daysLeft` (5: critical; 20: time to spare). */
  async seedDue(
    projectId: string,
    username: string,
    daysLeft: 5 | 10 | 20 = 5,
  ): Promise<SeedCertificate> {
    this.sim.addUser(projectId, username);
    return this.seed(projectId, username, {
      notBefore: daysFromNow(daysLeft - 90),
      notAfter: daysFromNow(daysLeft),
    });
  }
}

/** The report row of `username`; throws when the run did not report it. */
export const rowOf = (report: RunReport, username: string): UserReport => {
  const found = report.users.find((u) => u.username === username);
  if (!found) throw new Error(`no row for ${username}`);
  return found;
};

/** Days from now, as a Date. */
export const daysFromNow = (days: number): Date => new Date(Date.now() + days * 86_400_000);
