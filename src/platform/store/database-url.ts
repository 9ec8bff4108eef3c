/* What GOLIVE_DB's value is, read without loading a database driver (config checks it at start-up). */

/** Whether GOLIVE_DB names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target.trim());
}

/** The URL with its password taken out: what logs and /healthz may show. */
export function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    return u.toString().replace(/^(postgres(?:ql)?:\/\/[^:@/]+):@/i, '$1@');
  } catch {
    return 'postgres://(an unreadable URL)';
  }
}
