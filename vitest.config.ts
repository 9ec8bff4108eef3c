import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 15000,
    hookTimeout: 30000,
    // moto_server and the app bind real ports; a few workers keep the 2-core machine responsive.
    maxWorkers: 2,
    // The AWS SDK warns once per worker that Node 20 support ends; the project supports Node ≥ 20.19 on purpose.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
