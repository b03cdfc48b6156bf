import { defineConfig } from 'vitest/config';

const shared = {
  globalSetup: ['test/support/global-setup.ts'],
  setupFiles: ['test/support/setup-env.ts'],
  testTimeout: 30_000,
  hookTimeout: 60_000,
  // Key generation and child processes dominate; two cores on CI.
  pool: 'forks' as const,
};

export default defineConfig({
  test: {
    // Vitest's default is one worker fewer than the cores: one on CI's two. Most files wait on
    // moto_server, the simulator or a child process rather than compute, so three share two
    // cores well (npm test on 2 cores: see README, "Development").
    maxWorkers: 3,
    projects: [
      {
        test: {
          ...shared,
          name: 'main',
          include: ['test/**/*.test.ts'],
          exclude: ['test/faults/**'],
        },
      },
      {
        // The fault suite reaches moto_server through a proxy that fails AWS calls on demand.
        test: {
          ...shared,
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          setupFiles: [...shared.setupFiles, 'test/faults/setup-proxy.ts'],
        },
      },
    ],
  },
});
