import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: heavy suites (replay of the six-week archive, crash trials) must not starve each other.
    maxWorkers: 2,
  },
});
