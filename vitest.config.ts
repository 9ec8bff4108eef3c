import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // GOLIVE_TEST_STORE=postgres (npm run test:postgres): one throwaway PostgreSQL cluster for the run. Wired only then,
    // so the default SQLite run does not even load the file.
    globalSetup: process.env.GOLIVE_TEST_STORE === 'postgres' ? ['test/support/postgres-global-setup.ts'] : [],
    testTimeout: 15000,
    hookTimeout: 30000,
    // moto_server and the app bind real ports; a few workers keep the 2-core machine responsive.
    maxWorkers: 2,
    // Tests that build AWS adapters without createApp would get the SDK's own plain-text Node warning in the worker;
    // golive itself logs it as JSON (createApp → logNodeSupport; test/e2e/node-support.test.ts runs without this).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
