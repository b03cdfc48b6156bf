import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { ROOT } from './harness.js';

/**
 * A handler bundle run in its own process, as Lambda runs it: `node` imports the bundle, calls
 * `handler(event, context)` once and prints what it returned. For the bundles of a synthesized
 * asset (their config beside them) and for each Node.js runtime the construct accepts.
 */
export interface InvokeOptions {
  /** The Node binary: Lambda's runtime's version (scripts/lambda-node.sh), or this process's. */
  readonly node?: string;
  /** The bundle's index.mjs. */
  readonly bundle: string;
  readonly event: object;
  /** Added to this process's environment. */
  readonly env?: Record<string, string>;
  /** Removed from it (an empty name list keeps everything). */
  readonly unset?: (name: string) => boolean;
  /** Receives what the handler printed on stdout (its EMF metrics), but the result's line. */
  readonly printed?: (lines: string[]) => void;
}

const MARK = '@@handler-result ';

const SCRIPT = `
  const { handler } = await import(process.env.HANDLER_BUNDLE);
  const context = {
    awsRequestId: 'lambda-' + process.pid, functionName: 'rotator', functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:rotator',
    memoryLimitInMB: '512', logGroupName: '/aws/lambda/rotator', logStreamName: 's',
    callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => 300000,
  };
  const result = await handler(JSON.parse(process.env.HANDLER_EVENT), context);
  process.stdout.write('\\n${MARK}' + JSON.stringify(result) + '\\n');`;

export const invokeBundle = <T>(options: InvokeOptions): Promise<T> =>
  new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = {
      ...process.env,
      ...options.env,
      HANDLER_BUNDLE: options.bundle,
      HANDLER_EVENT: JSON.stringify(options.event),
    };
    for (const name of Object.keys(env)) if (options.unset?.(name)) delete env[name];
    const child = spawn(options.node ?? process.execPath, ['--input-type=module', '-e', SCRIPT], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => {
      const lines = out.split('\n');
      const line = lines.find((l) => l.startsWith(MARK));
      options.printed?.(lines.filter((l) => l.trim() !== '' && !l.startsWith(MARK)));
      if (code !== 0 || !line) reject(new Error(`handler exited ${code}: ${err}`));
      else resolve(JSON.parse(line.slice(MARK.length)) as T);
    });
  });

/** A Node binary of the version Lambda's `nodejs<major>.x` runs (cached by npx). */
export const lambdaNode = async (major: number): Promise<string> => {
  const { stdout } = await promisify(execFile)('sh', ['scripts/lambda-node.sh', String(major)], {
    cwd: ROOT,
    timeout: 240_000,
  });
  return stdout.trim().split('\n').at(-1) as string;
};
