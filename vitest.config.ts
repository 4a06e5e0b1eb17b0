import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Integration tests program the kernel of one shared machine; running files in parallel
    // would make them measure each other.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
