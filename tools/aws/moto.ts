import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A free TCP port on loopback, as the OS hands one out. */
export const freePort = async (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });

export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
}

/** Whether a moto_server answers at `endpoint` (its dashboard), within a couple of seconds. */
export const motoAnswers = async (endpoint: string): Promise<boolean> => {
  try {
    const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false; // not listening (yet)
  }
};

const waitUntilUp = async (endpoint: string, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await motoAnswers(endpoint))) {
    if (Date.now() > deadline) throw new Error(`moto_server did not start at ${endpoint}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

/**
 * Starts `moto_server` (moto 5.2.1 ships on every machine of this kind) on a free loopback port:
 * one local server speaking the real Secrets Manager and DynamoDB APIs.
 */
export const startMoto = async (): Promise<MotoServer> => {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (err) =>
      reject(new Error(`could not start moto_server (is it installed?): ${err.message}`)),
    );
    child.once('exit', (code) => reject(new Error(`moto_server exited early with code ${code}`)));
  });
  await Promise.race([waitUntilUp(endpoint, 30_000), exited]);
  child.removeAllListeners('exit');
  return {
    endpoint,
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
};

/** Points the AWS SDK's standard configuration at a moto endpoint, with dummy credentials. */
export const awsEnvFor = (endpoint: string): Record<string, string> => ({
  AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
  AWS_ENDPOINT_URL_DYNAMODB: endpoint,
  AWS_ENDPOINT_URL_EVENTBRIDGE: endpoint,
  // doctor's KMS key check (DescribeKey). Not STS: a cdk CLI that reaches an STS endpoint
  // learns an account, caches it in ~/.cdk for these credentials, and every later synth on
  // the machine turns environment-specific (doctor's tests set it themselves).
  AWS_ENDPOINT_URL_KMS: endpoint,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
});
