import { isPostgresUrl } from './platform/store/database-url.js';
import { copyDatabase, CopyRefused } from './platform/store/copy-database.js';

// Usage: npm run copy-db -- <sqlite-file> <postgres-url> (built, as in the Docker image:
// node dist/src/copy-database-cli.js <sqlite-file> <postgres-url>). Moves a launch from SQLite to PostgreSQL
// (README, "Moving a running launch from SQLite to PostgreSQL"). The password comes from GOLIVE_DB_PASSWORD or the
// URL, as golive takes it, and is never printed. Exits 0 when copied, 1 when refused or failed, 2 on a usage error.
const USAGE = [
  'usage: node dist/src/copy-database-cli.js <sqlite-file> <postgres-url>',
  '   or: npm run copy-db -- <sqlite-file> <postgres-url>',
  'Copies golive\'s SQLite database (stop golive first) into an empty PostgreSQL database.',
  'The password: GOLIVE_DB_PASSWORD, or in the URL (postgres://user:password@host:5432/db?sslmode=verify-full).',
].join('\n');

const out = (line: string) => process.stdout.write(`${line}\n`);
const fail = (message: string, code: number): never => {
  process.stderr.write(`golive copy-db: ${message}\n`);
  process.exit(code);
};

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  out(USAGE);
  process.exit(0);
}
if (args.length !== 2) fail(`expected 2 arguments, got ${args.length}\n${USAGE}`, 2);
const [source, target] = args as [string, string];
if (!isPostgresUrl(target)) {
  fail(isPostgresUrl(source) ? `the SQLite file comes first, then the PostgreSQL URL\n${USAGE}` : `the target must be a postgres:// or postgresql:// URL\n${USAGE}`, 2);
}
const password = process.env.GOLIVE_DB_PASSWORD?.trim() || undefined;

try {
  const result = await copyDatabase({
    source,
    target,
    password,
    onStart: (plan) => {
      for (const w of plan.warnings) out(`warning: ${w}`);
      const rows = plan.tables.reduce((n, t) => n + t.rows, 0);
      out(`Copying ${plan.source} (schema version ${plan.schemaVersion}, ${plan.tables.length} tables, ${rows} rows) to ${plan.target} in one transaction …`);
    },
  });
  const width = Math.max(...result.tables.map((t) => t.table.length));
  const digits = Math.max(...result.tables.map((t) => String(t.rows).length));
  for (const t of [...result.tables].sort((a, b) => (a.table < b.table ? -1 : 1))) out(`  ${t.table.padEnd(width)}  ${String(t.rows).padStart(digits)} row${t.rows === 1 ? '' : 's'}`);
  out(`Copied ${result.tables.length} tables, ${result.rows} rows in ${(result.ms / 1000).toFixed(1)} s; every table's row count matches ${result.source}.`);
  out(
    `Next: set GOLIVE_DB=${result.target}${password ? ' (with GOLIVE_DB_PASSWORD as now)' : ''} and start golive. Keep ${result.source} as it is: it is the launch as it stood before the move.`,
  );
} catch (err) {
  fail(err instanceof CopyRefused ? err.message : (err as Error).message, 1);
}
