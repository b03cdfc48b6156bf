import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * The Lambda runtime of the functions (#24.5, D5). The bundles are built for Node 24
 * (scripts/build.ts); the suite runs them on each runtime listed here
 * (test/e2e/runtimes.test.ts), so these are the ones the construct accepts.
 */
export const TESTED_NODE_MAJORS: readonly number[] = [24, 26];

const majorOf = (name: string): number | undefined => {
  const match = /^nodejs(\d+)\.x$/.exec(name);
  return match ? Number(match[1]) : undefined;
};

/**
 * The default: the newest Node.js runtime that the app's aws-cdk-lib knows (cdk-nag's
 * AwsSolutions-L1 compares with `Runtime.ALL` of that same library) and that the bundles are
 * tested on. With aws-cdk-lib 2.276 that is nodejs24.x; with one that knows nodejs26.x, that.
 */
export const defaultRuntime = (): lambda.Runtime => {
  const known = lambda.Runtime.ALL.filter((r) => {
    const major = majorOf(r.name);
    return r.family === lambda.RuntimeFamily.NODEJS && major && TESTED_NODE_MAJORS.includes(major);
  });
  known.sort((a, b) => (majorOf(a.name) ?? 0) - (majorOf(b.name) ?? 0));
  return known.at(-1) ?? lambda.Runtime.NODEJS_24_X;
};

/** The given runtime if the bundles are tested on it; otherwise an error naming the choices. */
export const checkRuntime = (runtime: lambda.Runtime | undefined): lambda.Runtime => {
  if (runtime === undefined) return defaultRuntime();
  const major = majorOf(runtime.name);
  if (
    runtime.family !== lambda.RuntimeFamily.NODEJS ||
    major === undefined ||
    !TESTED_NODE_MAJORS.includes(major)
  ) {
    const choices = TESTED_NODE_MAJORS.map((m) => `nodejs${m}.x`).join(', ');
    throw new Error(
      `runtime "${runtime.name}": the functions' bundles are built for Node 24 and tested on ${choices}; pass one of those (new lambda.Runtime('nodejs26.x', lambda.RuntimeFamily.NODEJS) where your aws-cdk-lib has no constant for it), or leave runtime unset for the newest of them your aws-cdk-lib knows`,
    );
  }
  return runtime;
};
