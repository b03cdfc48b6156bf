/**
 * Vitest setup (vitest.config.ts): every answer of every Atlas simulator in the test process,
 * and every request the Atlas client sends it, is checked against Atlas's published contract.
 * A violation fails the test during which it happened.
 */
import { appendFileSync } from 'node:fs';
import { afterAll, afterEach } from 'vitest';
import { AtlasSimulator } from '../../tools/simulator/atlas-simulator.js';
import { contractMonitor } from './monitor.js';

const monitor = contractMonitor();
AtlasSimulator.onExchange = (exchange) => monitor.observe(exchange);
const atStart = { ...monitor.counts };

afterEach(() => {
  const violations = monitor.drain();
  if (violations.length > 0) {
    throw new Error(
      `Atlas contract violated (contract/atlas-x509-subset.yaml; test/contract/deviations.ts):\n  ${violations.join('\n  ')}`,
    );
  }
});

// ATLAS_CONTRACT_COUNTS=<file>: one JSON line per test file, how many exchanges were checked.
afterAll(() => {
  const file = process.env.ATLAS_CONTRACT_COUNTS;
  if (!file) return;
  const { requests, answers, faulted } = monitor.counts;
  const delta = {
    requests: requests - atStart.requests,
    answers: answers - atStart.answers,
    faulted: faulted - atStart.faulted,
  };
  appendFileSync(file, `${JSON.stringify(delta)}\n`);
});
