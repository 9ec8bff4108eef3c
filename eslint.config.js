import js from '@eslint/js';
import tseslint from 'typescript-eslint';


/*
 * Boundaries (README, "How it is built"), with ESLint's own no-restricted-imports so that no plugin has to
 * keep up with ESLint: a feature imports the platform, its own files and other features' index.ts only; a
 * service or repository never imports the Slack side or an SDK; the platform never imports a feature.
 * test/lint-boundaries.test.ts runs these rules on violating snippets so they cannot silently stop working.
 */
const FEATURES = 'alarms|canary|checklist|deploys|gonogo|history|home|incidents|locks|sandbox|timeline';
const otherFeatureInternals = {
  regex: `^\\.\\./(${FEATURES})/(?!index\\.js$)`,
  message: "Import another feature through its index.ts (its public surface), not its files.",
};
const slackOrSdk = [
  { regex: '(^|/)platform/slack/(?!slack-port\\.js$)', message: 'A service or repository never imports the Slack side: go through its notifier or a port.' },
  { regex: '^\\./(.*-notifier|render-.*|.*-buttons|.*-modals|.*-command)\\.js$', message: 'A service or repository never imports the Slack side: go through its notifier or a port.' },
  { regex: '^@(slack|aws-sdk|pagerduty)/', message: 'A service or repository never imports an SDK: use the port in src/platform/.' },
];

// One place holds the database drivers, so the SQL dialects and connection handling stay in the store (src/platform/store/).
const databaseDrivers = { regex: '^(pg|pg-connection-string|better-sqlite3)$', message: 'Only src/platform/store/ uses a database driver: go through the Store (repositories) instead.' };

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // The store's methods return promises: a repository call that is not awaited would read as always true, or
    // run after its transaction. These rules need the type checker.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [databaseDrivers] }] },
  },
  {
    files: ['src/{alarms,checklist,deploys,gonogo,history,home,incidents,sandbox,timeline}/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [otherFeatureInternals, databaseDrivers] }] },
  },
  {
    files: ['src/*/*-service.ts', 'src/*/*-repository.ts', 'src/platform/store/**/*.ts', 'src/platform/outbox/outbox-repository.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [otherFeatureInternals, ...slackOrSdk, databaseDrivers] }] },
  },
  {
    files: ['src/platform/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: `^(\\.\\./)+(${FEATURES}|create-app|command-specs|main)(/|\\.js$)`, message: 'The platform never imports a feature or the composition root: features depend on the platform, not the other way.' }, databaseDrivers] },
      ],
    },
  },
  {
    files: ['src/platform/store/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: `^(\\.\\./)+(${FEATURES}|create-app|command-specs|main)(/|\\.js$)`, message: 'The platform never imports a feature or the composition root: features depend on the platform, not the other way.' }, ...slackOrSdk] }] },
  },
  {
    files: ['src/validate-cli.ts', 'bench/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
  },
);
