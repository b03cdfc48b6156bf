/**
 * `npm run scenarios`: the hard-timing scenarios of docs/reliability.md (tools/scenarios/), each
 * run through the real CLI process against the Atlas simulator and moto_server (behind the AWS
 * fault proxy), printed as the table the doc shows: certificates minted, keys lost, mints per
 * user, time to finish. Takes about six minutes (some scenarios wait out Atlas's Retry-After or
 * let versions age). `--only <name>` runs one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AwsFaultProxy } from '../tools/aws/fault-proxy.js';
import { awsEnvFor, startMoto } from '../tools/aws/moto.js';
import { SCENARIOS } from '../tools/scenarios/catalog.js';
import { type Row, runScenario, scenarioTable } from '../tools/scenarios/run.js';

const main = async (): Promise<void> => {
  const { values } = parseArgs({ options: { only: { type: 'string' } } });
  const moto = await startMoto();
  Object.assign(process.env, awsEnvFor(moto.endpoint), {
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: process.env.SCENARIOS_DEBUG ? 'DEBUG' : 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  const proxy = await AwsFaultProxy.start(moto.endpoint);
  const dir = await mkdtemp(join(tmpdir(), 'rotator-scenarios-'));
  const rows: Row[] = [];
  try {
    for (const s of SCENARIOS) {
      if (values.only && !s.name.includes(values.only)) continue;
      const row = await runScenario(s, { proxy, dir });
      rows.push(row);
      console.error(`done: ${s.name} (${row.seconds.toFixed(1)} s)`);
    }
  } finally {
    await proxy.close();
    await moto.stop();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(scenarioTable(rows));
};

await main();
