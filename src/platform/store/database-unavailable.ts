/**
 * The database could not be reached (refused, timed out, the connection
 * dropped): nothing the statement asked for happened. Distinct from a
 * statement the database refused (a constraint, a bug), which is golive's.
 */
export class DatabaseUnavailableError extends Error {
  constructor(
    /** Where golive looked, without any password. */
    readonly target: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`golive cannot reach its database (${target}): ${detail}`, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/** Node's network errors and PostgreSQL's connection classes: the database was not there to answer. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/** Whether a failure from the PostgreSQL client means the server could not be reached or went away. */
export function isConnectionFailure(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  // 08: connection exception; 57P01-57P03: the server is shutting down or starting; 53300: too many connections.
  if (NETWORK_CODES.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code) || code === '53300') return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly|the database system is (starting up|shutting down)/i.test(message);
}
