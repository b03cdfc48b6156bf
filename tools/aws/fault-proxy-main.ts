/**
 * The AWS fault proxy in a process of its own, so that work in the caller's process cannot
 * delay its clock (the bench counts writes per second):
 *
 *   node --import tsx tools/aws/fault-proxy-main.ts <target endpoint>
 *
 * Prints `endpoint <url>` on stderr once listening, then one JSON line per answered operation
 * (`AwsCall`) on stdout.
 */
import { AwsFaultProxy } from './fault-proxy.js';

const target = process.argv[2];
if (!target) {
  process.stderr.write(
    'usage: node --import tsx tools/aws/fault-proxy-main.ts <target endpoint>\n',
  );
  process.exit(2);
}
const proxy = await AwsFaultProxy.start(target);
proxy.onCall = (call) => {
  process.stdout.write(`${JSON.stringify(call)}\n`);
};
process.stderr.write(`endpoint ${proxy.endpoint}\n`);
