import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { AwsCall } from '../../tools/aws/fault-proxy.js';

const PROXY_MAIN = fileURLToPath(new URL('../../tools/aws/fault-proxy-main.ts', import.meta.url));

export interface CountingProxy {
  endpoint: string;
  /** Every request the rotator sent (retries included), by action and arrival time. */
  seen: AwsCall[];
  close(): Promise<void>;
}

/**
 * The AWS fault proxy, injecting nothing, in front of moto_server's Secrets Manager: every
 * request the rotator sends, as the service would count them. It runs in a process of its own,
 * so the simulator's work in this one cannot delay its clock.
 */
export const countingProxy = async (target: string): Promise<CountingProxy> => {
  const seen: AwsCall[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', PROXY_MAIN, target], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Its clock must not lag behind a busy machine: ahead of the rest, where allowed.
  try {
    if (child.pid) setPriority(child.pid, -10);
  } catch {}
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => seen.push(JSON.parse(line) as AwsCall));
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      const found = /endpoint (\S+)/.exec(String(d));
      if (found?.[1]) resolve(found[1]);
    });
    child.once('exit', (code) => reject(new Error(`the proxy exited (${code})`)));
  });
  return {
    endpoint,
    seen,
    close: async () => {
      child.kill();
    },
  };
};
