import pLimit from 'p-limit';
import type { RunReport } from '../../functions/domain/report.js';
import type { SimulatorBehaviour } from '../../tools/simulator/model.js';
import type { RateLimitOptions } from '../../tools/simulator/rate-limit.js';
import { CREATE_MS, flags, LAMBDA_S, LIST_MS, STINGY, TICK_S, WRITE_PACE } from './options.js';
import { atlasSteady, baseRow, type Row } from './table.js';
import { type Bench, cli, world } from './world.js';

/** One CLI run over one generous bucket (full, steady) or a bucket per project (projects). */
export const scenario = async (
  bench: Bench,
  s: {
    kind: 'full' | 'steady' | 'projects';
    projects: number;
    perProject: number;
    bucket: RateLimitOptions;
    /** Whether `GET /rateLimits` is served, refused (401) or unknown (406): pacing by headers only. */
    rateLimits?: SimulatorBehaviour['rateLimitsEndpoint'];
  },
): Promise<Row> => {
  const { proxy } = bench;
  const rateLimits = s.rateLimits ?? 'served';
  const w = await world(bench, s.projects, s.perProject, s.bucket, undefined, rateLimits);
  // `denied`: Atlas serves a refusal (401 USER_UNAUTHORIZED), the "refused".
  const shown = rateLimits === 'denied' ? 'refused' : rateLimits;
  const label = s.kind === 'steady' ? `steady (rateLimits ${shown})` : s.kind;
  process.stderr.write(`bench: ${label}, ${w.users} users…\n`);
  try {
    if (s.kind === 'steady') {
      const { seedSecret } = await import('../../tools/aws/seed.js');
      // Seeding is not measured: every user starts with a healthy certificate.
      const limit = pLimit(16);
      await Promise.all(
        w.byProject.flatMap((p) =>
          p.users.map((username) =>
            limit(async () => {
              const cert = await w.sim.mintCertificate(p.projectId, username, { months: 3 });
              const seed = () =>
                seedSecret(
                  `${w.prefix}${p.projectId}/${username}`,
                  { projectId: p.projectId, username },
                  cert,
                );
              // moto_server now and then answers a burst of creates with an HTML 500 page.
              await seed().catch(seed);
            }),
          ),
        ),
      );
      w.sim.setRateLimit(s.bucket);
      proxy.seen.length = 0;
    }
    w.sim.resetRequests();
    const { report, wallS, usage } = await cli(bench, w.configFile, w.atlasEnv);
    await new Promise((r) => setTimeout(r, 300)); // the proxy's last lines
    const api = w.sim.requests.filter((r) => r.path.startsWith('/api/atlas/'));
    const answered = api.filter((r) => r.status !== 429 && r.status !== 401);
    // Token bound: each bucket's last token arrives (charged − capacity) / refill after the
    // start, and the request it admits still takes its latency.
    const charged = new Map<string, number>();
    for (const r of answered) {
      if (!r.path.endsWith('/certs')) continue;
      const key = s.bucket.scope === 'project' ? (r.path.split('/')[5] ?? '') : 'all';
      charged.set(key, (charged.get(key) ?? 0) + 1);
    }
    const last = (s.kind === 'steady' ? LIST_MS : CREATE_MS) / 1000;
    const chain = (s.kind === 'steady' ? LIST_MS : LIST_MS + CREATE_MS) / 1000;
    const tokenBound = Math.max(
      ...[...charged.values()].map(
        (n) => Math.max(0, (n - s.bucket.capacity) / s.bucket.refillPerSecond) + last,
      ),
    );
    // Write bound: the pace sends one write of a family every 1/WRITE_PACE s; a new user's
    // CreateSecret precedes its mint, so the last one's mint still follows it.
    const creates = proxy.seen.filter((x) => x.operation === 'CreateSecret').length;
    const writeBound =
      s.kind === 'steady' ? 0 : Math.max(0, creates - 1) / WRITE_PACE + CREATE_MS / 1000;
    const boundS = Math.max(chain, tokenBound, writeBound);
    const boundWhy = boundS === writeBound ? 'writes' : boundS === tokenBound ? 'tokens' : 'chain';
    const ratio = wallS / boundS;
    const row = baseRow({
      scenario: label,
      users: w.users,
      report,
      wallS,
      boundS,
      boundWhy,
      answered: answered.length,
      sim: w.sim,
      seen: proxy.seen,
    });
    row.cpuMsPerUser = usage.cpuMs / w.users;
    row.rssMb = usage.maxRssKb / 1024;
    const want = s.kind === 'projects' ? 1.25 : w.users <= 100 ? 1.5 : 1.1;
    row.target =
      s.kind === 'steady'
        ? atlasSteady(row, w.users, api.length) && row.smPerUser <= 0.02 && row.tokens === 1
          ? 'met (≤1.01 Atlas requests a user, 0 429s, ≤0.02 SM, 1 token)'
          : `MISSED (${(api.length / w.users).toFixed(3)} Atlas requests a user, ${row.throttled} 429s)`
        : ratio <= want && row.failed === 0
          ? `met (≤${want}×, 0 failed)`
          : `MISSED (${ratio.toFixed(2)}× > ${want}× or ${row.failed} failed)`;
    return row;
  } finally {
    await w.sim.close();
  }
};

/**
 * A first rotation over a stingy bucket, through catch-up runs as the schedule makes them, in
 * time scaled by `--scale`: the bucket refills `scale` times faster and a run's budget is a
 * Lambda's 15 minutes divided by `scale`, so bucket-bound runs behave as deployed, in seconds.
 * Between runs the simulator's clock moves one catch-up tick (scaled) ahead.
 */
export const stingy = async (bench: Bench, n: number): Promise<Row> => {
  const scale = Number(flags.scale);
  let offsetMs = 0;
  const bucket = { ...STINGY, refillPerSecond: STINGY.refillPerSecond * scale };
  const w = await world(bench, 1, n, bucket, () => new Date(Date.now() + offsetMs));
  process.stderr.write(`bench: stingy, ${n} users, time ×${scale}…\n`);
  // In this process too, the rotator's Secrets Manager calls go through the counting proxy
  // (its SDK clients are made when the module loads, from the environment).
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = bench.proxy.endpoint;
  const { rotateWithConfig } = await import('../../functions/runtime.js');
  const { parseConfig } = await import('../../functions/domain/config/resolve.js');
  const { silentLog } = await import('../../functions/domain/log.js');
  const config = parseConfig(w.raw);
  const budgetMs = (LAMBDA_S * 1000) / scale;
  let simulatedS = 0;
  let runs = 0;
  let failed = 0;
  let report: RunReport | undefined;
  let wallS = 0;
  try {
    for (let trigger: 'schedule' | 'catch-up' = 'schedule'; ; trigger = 'catch-up') {
      const started = performance.now();
      const at = Date.now();
      report = await rotateWithConfig({
        config,
        request: { dryRun: false, force: false },
        log: silentLog,
        env: { ...process.env, ...w.atlasEnv },
        deadline: () => at + budgetMs,
        trigger,
        // A create and its key's store, scaled like the rest (65 s as deployed).
        tuning: { minTimeForMintMs: 65_000 / scale },
      });
      const s = (performance.now() - started) / 1000;
      wallS += s;
      simulatedS += s * scale;
      runs += 1;
      failed += report.summary.failed;
      process.stderr.write(
        `bench:   run ${runs} (${trigger}): ${report.summary.rotated} rotated, ${report.summary.deferred} deferred\n`,
      );
      if (report.catchUp?.next !== 'catch-up') break;
      offsetMs += (TICK_S * 1000) / scale;
      simulatedS += TICK_S - s * scale;
    }
  } finally {
    await w.sim.close();
  }
  const minted = w.sim.stats.certificatesMinted;
  // Each new user costs two tokens (list, create); a run spends the bucket, then its refill
  // until its last create may start (the budget less the report's and a create's reserve).
  const perRun = STINGY.capacity + STINGY.refillPerSecond * (LAMBDA_S - 10 - 65);
  const fewest = Math.ceil((2 * n) / perRun);
  const answered = w.sim.requests.filter(
    (r) => r.path.startsWith('/api/atlas/') && r.status !== 429 && r.status !== 401,
  ).length;
  const row = baseRow({
    scenario: 'stingy',
    users: n,
    report: report as RunReport,
    wallS,
    boundS: Number.NaN,
    boundWhy: '—',
    answered,
    sim: w.sim,
    seen: bench.proxy.seen,
  });
  row.runs = runs;
  row.failed = failed;
  row.hours = simulatedS / 3600;
  row.target =
    failed === 0 && minted >= n
      ? `${runs <= fewest ? 'met' : 'MISSED'} (0 failed; ${runs} runs, fewest ${fewest}; ${row.hours.toFixed(1)} h)`
      : `MISSED (${failed} failed, ${minted}/${n} minted after ${runs} runs)`;
  return row;
};
