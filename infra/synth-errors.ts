import { ConfigError } from '../functions/domain/config/errors.js';

/**
 * Config and prop errors under `cdk synth` (#24.7): one clean message, no stack dump. The
 * construct throws (a test or a program may catch it), and when the error would end the app the
 * CDK CLI runs (`CDK_OUTDIR` set), only its message is printed. Node prints an uncaught error
 * with the throwing source line and every frame; aws-cdk-lib's own errors print the same way.
 */

const clean = new WeakSet<Error>();
let installed = false;

const onUncaught = (err: unknown): void => {
  if (err instanceof Error && clean.has(err)) {
    process.stderr.write(`${err.message}\n`);
  } else {
    // Not ours: what Node would print.
    process.stderr.write(`${err instanceof Error ? (err.stack ?? String(err)) : String(err)}\n`);
  }
  process.exit(1);
};

/** Whether `err` is one the adopter fixes in the config or the props (not a bug). */
const isInputError = (err: unknown): err is Error =>
  err instanceof ConfigError || (err instanceof Error && err.constructor === Error);

/** Marks an input error to be printed as its message alone if nothing catches it. */
export const cleanUnderCdk = (err: unknown): unknown => {
  if (!isInputError(err) || !process.env.CDK_OUTDIR) return err;
  clean.add(err);
  if (!installed) {
    installed = true;
    process.on('uncaughtException', onUncaught);
  }
  return err;
};
