import { defineConfig } from 'vitest/config';
import { SlowestFirst } from './test/support/sequencer.js';

const shared = {
  globalSetup: ['test/support/global-setup.ts'],
  setupFiles: ['test/support/setup-env.ts'],
  testTimeout: 30_000,
  hookTimeout: 60_000,
  // Key generation and child processes dominate; two cores on CI.
  pool: 'forks' as const,
  // The shipped bundles load through Node's own loader, untransformed (test/support/bundles.ts).
  server: { deps: { external: [/\/dist\//] } },
};

export default defineConfig({
  test: {
    // Vitest's default is one worker fewer than the cores: one on CI's two. Most files wait on
    // moto_server, the simulator or a child process rather than compute, so three share two
    // cores well (npm test on 2 cores: see README, "Development").
    maxWorkers: 3,
    sequence: { sequencer: SlowestFirst },
    projects: [
      {
        test: {
          ...shared,
          name: 'main',
          include: ['test/**/*.test.ts'],
          // Atlas contract checks on every simulator exchange (test/contract/setup.ts).
          setupFiles: [...shared.setupFiles, 'test/contract/setup.ts'],
          // Whole runs and child processes: each test starts its own simulator and moto names,
          // and handlers load as bundles through Node's own loader, so the files share one
          // module registry per worker (the SDK and the simulator load once: ~15 s less import).
          isolate: false,
          exclude: ['test/faults/**', 'test/infra/**', 'test/domain/**', 'test/adapters/**'],
        },
      },
      {
        // Pure modules against in-memory fakes: no service, no global state to leak between
        // files, so they share one module registry per worker.
        test: { ...shared, name: 'domain', include: ['test/domain/**/*.test.ts'], isolate: false },
      },
      {
        // Adapters over MockAgent, a fake wire or moto: each test owns its agent or client, and
        // the two class-wide SDK mocks are restored after their file.
        test: {
          ...shared,
          name: 'adapters',
          include: ['test/adapters/**/*.test.ts'],
          isolate: false,
        },
      },
      {
        // Synth tests only read what they synthesize: sharing one module registry per worker
        // loads aws-cdk-lib once and lets the files share the two common syntheses.
        test: {
          ...shared,
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          isolate: false,
        },
      },
      {
        // The fault suite reaches moto_server through a proxy that fails AWS calls on demand.
        test: {
          ...shared,
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          // The AWS fault proxy, and the Atlas contract checks (test/contract/setup.ts).
          setupFiles: [
            ...shared.setupFiles,
            'test/faults/setup-proxy.ts',
            'test/contract/setup.ts',
          ],
        },
      },
    ],
  },
});
