import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 15000,
    hookTimeout: 30000,
    // moto_server and the app bind real ports; a few workers keep the 2-core machine responsive.
    maxWorkers: 2,
  },
});
