import { stat } from 'node:fs/promises';
import type { RunReport } from '../../functions/domain/report.js';
import type { AwsCall } from '../../tools/aws/fault-proxy.js';
import type { AtlasSimulator } from '../../tools/simulator/atlas-simulator.js';
import { CREATE_MS, FAMILIES, flags, LIST_MS, WRITE_PACE } from './options.js';

export interface Row {
  scenario: string;
  users: number;
  runs: number;
  wallS: number;
  boundS: number;
  boundWhy: string;
  atlasPerUser: number;
  tokens: number;
  smPerUser: number;
  throttled: number;
  failed: number;
  writesPeak: string;
  writesPeakMax: number;
  cpuMsPerUser: number | undefined;
  rssMb: number | undefined;
  target: string;
  hours?: number;
}

/** The most writes of one family in any one second. */
export const peakPerSecond = (times: number[]): number => {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while ((sorted[j] as number) - (sorted[i] as number) >= 1000) i++;
    peak = Math.max(peak, j - i + 1);
  }
  return peak;
};

/** A row's common columns: what Atlas and Secrets Manager (through the proxy) saw. */
export const baseRow = (r: {
  scenario: string;
  users: number;
  report: RunReport;
  wallS: number;
  boundS: number;
  boundWhy: string;
  answered: number;
  sim: AtlasSimulator;
  seen: readonly AwsCall[];
}): Row => {
  const writes = new Map<string, number[]>();
  let sm = 0;
  for (const { operation, at } of r.seen) {
    sm += 1;
    const family = FAMILIES[operation];
    if (family) writes.set(family, [...(writes.get(family) ?? []), at]);
  }
  const peaks = [...writes].map(([f, times]) => [f, peakPerSecond(times)] as const);
  const errors = r.seen.filter((x) => (x.status ?? 0) >= 400).length;
  if (errors > 0)
    process.stderr.write(`bench:   ${errors} Secrets Manager error answers (retried)\n`);
  return {
    scenario: r.scenario,
    users: r.users,
    runs: 1,
    wallS: r.wallS,
    boundS: r.boundS,
    boundWhy: r.boundWhy,
    atlasPerUser: r.answered / r.users,
    tokens: r.sim.stats.tokensIssued,
    smPerUser: sm / r.users,
    throttled: r.sim.stats.rateLimited,
    failed: r.report.summary.failed,
    writesPeak: peaks.map(([f, p]) => `${f.split('/')[0]} ${p}`).join(', ') || '—',
    writesPeakMax: Math.max(0, ...peaks.map(([, p]) => p)),
    cpuMsPerUser: undefined,
    rssMb: undefined,
    target: '',
  };
};

/**
 * Steady state: one list a user, plus the run's fixed reads (the published rate limit), 429s
 * included in the count (`sent`: every Admin API request), and none of them a 429.
 */
export const atlasSteady = (row: Row, users: number, sent: number): boolean =>
  row.atlasPerUser * users <= users + 2 && sent / users <= 1.01 && row.throttled === 0;

export const bundleSizes = async (): Promise<{ name: string; kib: number }[]> =>
  Promise.all(
    ['rotate', 'disable-customer-x509'].map(async (name) => ({
      name,
      kib: (await stat(`dist/assets/${name}/index.mjs`)).size / 1024,
    })),
  );

export const print = (rows: Row[], bundles: { name: string; kib: number }[]): void => {
  const header =
    '| scenario | users | runs | wall s | bound s (binds) | wall/bound | Atlas req/user | tokens | SM req/user | 429s | failed | SM writes/s peak (pace 40) | CPU ms/user | peak RSS MB | target |';
  const lines = [
    header,
    `|${header
      .split('|')
      .slice(1, -1)
      .map(() => '---')
      .join('|')}|`,
  ];
  for (const r of rows) {
    const bound = Number.isNaN(r.boundS) ? '—' : `${r.boundS.toFixed(1)} (${r.boundWhy})`;
    const ratio = Number.isNaN(r.boundS) ? '—' : (r.wallS / r.boundS).toFixed(2);
    lines.push(
      `| ${r.scenario} | ${r.users} | ${r.runs} | ${r.wallS.toFixed(1)} | ${bound} | ${ratio} | ${r.atlasPerUser.toFixed(3)} | ${r.tokens} | ${r.smPerUser.toFixed(3)} | ${r.throttled} | ${r.failed} | ${r.writesPeak}${r.writesPeakMax > WRITE_PACE ? ' OVER' : ''} | ${r.cpuMsPerUser?.toFixed(1) ?? '—'} | ${r.rssMb?.toFixed(0) ?? '—'} | ${r.target} |`,
    );
  }
  process.stdout.write(
    `\nAtlas simulator: list ${LIST_MS} ms, create ${CREATE_MS} ms, RSA-4096 keys (a pool of 8); auth ${flags.auth}; the CLI as its own process (start-up, SDK load and the events included).\n` +
      `Buckets: full/steady one of capacity 100, refill 100/s; projects one per project of capacity 20, refill 5/s; stingy one of capacity 10, refill 5/min, time ×${flags.scale}.\n\n${lines.join('\n')}\n\n` +
      `| function | bundle (index.mjs, minified) |\n|---|---|\n${bundles.map((b) => `| ${b.name} | ${b.kib.toFixed(0)} KiB |`).join('\n')}\n`,
  );
};
