/**
 * The `atlas-x509-rotator` command (package.json `bin`, bundled to dist/cli.mjs; `npm run rotate`
 * runs it from the sources in a checkout).
 */
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2));
