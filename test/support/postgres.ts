/*
 * A real, throwaway PostgreSQL server for the tests: initdb into a tmp folder, pg_ctl start on a free port of
 * 127.0.0.1, and everything removed again by stop(). Never a mock: the store is tested against the server it meets
 * in production. Tuned for tests, not for durability (fsync, synchronous_commit and full_page_writes off).
 *
 * PostgreSQL refuses to run as root; as root (CI runs the suite so) initdb and pg_ctl run as the `postgres` system
 * user when there is one, else as nobody, and the tmp folder is theirs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chownSync, constants, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { freePort } from './free-port.js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

/** One line on how to get PostgreSQL's server binaries, for skips and errors. */
export const POSTGRES_HOW_TO =
  'PostgreSQL server binaries (initdb, pg_ctl) not found on PATH nor in /usr/lib/postgresql/<version>/bin: ' +
  'install them with `sudo apt-get install postgresql` (Debian/Ubuntu) or `brew install postgresql@16` (macOS)';

/**
 * The folder holding initdb and pg_ctl: the first on PATH that has both, else the newest Debian
 * /usr/lib/postgresql/<version>/bin (the package puts them there, off PATH), else the newest Homebrew keg
 * (postgresql@N is keg-only, so also off PATH). Undefined when there is none.
 */
export function findPostgresBin(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && hasServerBinaries(dir)) {
      // A PATH entry may hold symlinks (e.g. /usr/local/bin/initdb → /usr/lib/postgresql/15/bin/initdb): name the real
      // folder when it holds both, so binDir reads as the installation.
      const real = path.dirname(realpathSync(path.join(dir, 'initdb')));
      return hasServerBinaries(real) ? real : dir;
    }
  }
  const versioned = (root: string, pattern: RegExp): string[] => {
    let names: string[];
    try {
      names = readdirSync(root);
    } catch {
      return [];
    }
    return names
      .map((name) => ({ name, version: pattern.exec(name)?.[1] }))
      .filter((e): e is { name: string; version: string } => e.version !== undefined)
      .sort((a, b) => compareVersions(b.version, a.version))
      .map((e) => path.join(root, e.name, 'bin'));
  };
  const candidates = [
    ...versioned('/usr/lib/postgresql', /^(\d+(?:\.\d+)*)$/),
    ...versioned('/opt/homebrew/opt', /^postgresql@(\d+(?:\.\d+)*)$/),
    ...versioned('/usr/local/opt', /^postgresql@(\d+(?:\.\d+)*)$/),
  ];
  return candidates.find(hasServerBinaries);
}

function hasServerBinaries(dir: string): boolean {
  return ['initdb', 'pg_ctl'].every((name) => {
    try {
      accessSync(path.join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export interface StartPostgresOptions {
  /** Folder holding initdb and pg_ctl; default findPostgresBin(). */
  binDir?: string;
  /** Extra server settings (`-c name=value`), e.g. `{ statement_timeout: '5s' }`; they win over the defaults. */
  settings?: Record<string, string | number>;
}

/** A running throwaway PostgreSQL server. Superuser `postgres`, trust authentication, no password. */
export interface PostgresCluster {
  /** TCP port on 127.0.0.1; the same across stopServer()/startServer(). */
  readonly port: number;
  /** The cluster's data directory (inside `baseDir`). */
  readonly dataDir: string;
  /** The tmp folder holding the data directory, the socket directory and the server log; stop() removes it. */
  readonly baseDir: string;
  /** The server log (pg_ctl -l). */
  readonly logFile: string;
  /** The folder initdb and pg_ctl came from. */
  readonly binDir: string;
  /** Whether the server process runs (false between stopServer() and startServer(), and after stop()). */
  readonly running: boolean;
  /** `postgres://postgres@127.0.0.1:<port>/<database>`; database defaults to `postgres`. */
  url(database?: string): string;
  /** CREATE DATABASE (name defaults to `golive_test_<random>`); resolves to its URL. */
  createDatabase(name?: string): Promise<string>;
  /** DROP DATABASE IF EXISTS … WITH (FORCE), ending any connections to it; takes a name or a URL from url(). */
  dropDatabase(nameOrUrl: string): Promise<void>;
  /**
   * Stops the server process, keeping the data directory and port: connections fail (ECONNREFUSED) until
   * startServer(). `fast` (default) ends open connections with an error and checkpoints, so every committed
   * transaction is back after startServer(); `immediate` is a crash: with synchronous_commit off the last
   * ~0.6 s of commits may be lost, as they would be on a real server with that setting.
   */
  stopServer(options?: { mode?: 'fast' | 'immediate' }): Promise<void>;
  /** Starts the server again on the same data directory and port (after stopServer()). */
  startServer(): Promise<void>;
  /** The last `lines` lines of the server log. */
  logTail(lines?: number): string;
  /** Stops the server (pg_ctl -m immediate) and removes baseDir. Safe to call twice. */
  stop(): Promise<void>;
}

/** Who runs initdb and pg_ctl: the current user, or (as root) postgres / nobody. */
interface RunAs {
  uid?: number;
  gid?: number;
  name: string;
}

function serverUser(): RunAs {
  if (process.getuid?.() !== 0) return { name: 'the current user' };
  const postgres = lookupUser('postgres');
  if (postgres) return { ...postgres, name: 'postgres' };
  return { uid: 65534, gid: 65534, name: 'nobody' };
}

function lookupUser(name: string): { uid: number; gid: number } | undefined {
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of passwd.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) return { uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/**
 * How a command runs as the server user. As root this is Node's own uid/gid switch (libuv also drops the
 * supplementary groups), which is what `runuser -u postgres --` or `setpriv --reuid --regid --clear-groups` do,
 * without depending on util-linux or a PAM session; synchronous spawns (the exit hook) use the same.
 */
function spawnOptions(runAs: RunAs, cwd: string): { uid?: number; gid?: number; cwd: string; env: NodeJS.ProcessEnv } {
  // PG* variables from the caller's shell (PGDATA, PGPORT, …) must not steer initdb or pg_ctl at another cluster.
  // LC_ALL=C keeps initdb's output and the server log in English (the port-taken check reads it); TZ=UTC makes the
  // cluster's timezone UTC (initdb writes it into postgresql.conf), whatever the machine's.
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
  Object.assign(env, { LC_ALL: 'C', TZ: 'UTC' });
  return runAs.uid === undefined ? { cwd, env } : { uid: runAs.uid, gid: runAs.gid, cwd, env };
}

interface RunResult {
  code: number | null;
  output: string;
}

function run(command: string, args: string[], runAs: RunAs, cwd: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(command, args, { ...spawnOptions(runAs, cwd), stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** Clusters this process started and has not stopped: the exit hook ends them. */
const live = new Map<string, { stopSync: () => void }>();
let exitHookInstalled = false;

function track(baseDir: string, stopSync: () => void): void {
  live.set(baseDir, { stopSync });
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live.values()) c.stopSync();
    });
  }
}

/** A quoted word for the shell pg_ctl hands `-o` to. */
function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * A detached shell that outlives this process: it reads a pipe only this process writes to, so it sees end-of-file
 * when this process is gone however it ended (also SIGKILL, or a worker killed on a timeout, which emit no 'exit'
 * event); then, if the cluster's folder is still there, it stops the server and removes the folder. It runs as the
 * server user, so it can run pg_ctl. stop() and the exit hook end it first.
 */
function startWatchdog(bin: string, baseDir: string, dataDir: string, runAs: RunAs): ChildProcess | undefined {
  const script = [
    'base=$1 data=$2 pg_ctl=$3',
    'while read -r _; do :; done',
    '[ -d "$base" ] || exit 0',
    '"$pg_ctl" -D "$data" -m immediate -w -t 30 stop >/dev/null 2>&1',
    'rm -rf "$base"',
  ].join('\n');
  try {
    const child = spawn('sh', ['-c', script, 'golive-pg-watchdog', baseDir, dataDir, path.join(bin, 'pg_ctl')], {
      ...spawnOptions(runAs, baseDir),
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.once('error', () => {});
    child.stdin?.on('error', () => {});
    // Neither the child nor its pipe may keep this process alive.
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return child;
  } catch {
    return undefined;
  }
}

class PortTakenError extends Error {}

/**
 * initdb a fresh cluster in a tmp folder and start it on a free port of 127.0.0.1. Throws, with the log's tail, when
 * it cannot; throws POSTGRES_HOW_TO when there are no binaries.
 */
export async function startPostgresCluster(options: StartPostgresOptions = {}): Promise<PostgresCluster> {
  const bin = options.binDir ?? findPostgresBin();
  if (!bin) throw new Error(POSTGRES_HOW_TO);
  const runAs = serverUser();

  const baseDir = mkdtempSync(path.join(tmpdir(), 'golive-pg-'));
  const dataDir = path.join(baseDir, 'data');
  const sockDir = path.join(baseDir, 'sock');
  const logFile = path.join(baseDir, 'server.log');
  mkdirSync(sockDir);
  if (runAs.uid !== undefined) {
    chownSync(baseDir, runAs.uid, runAs.gid ?? runAs.uid);
    chownSync(sockDir, runAs.uid, runAs.gid ?? runAs.uid);
  }
  const pgCtl = path.join(bin, 'pg_ctl');
  const logTail = (lines = 30): string => {
    try {
      return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no server log)';
    }
  };
  const removeBase = () => rmSync(baseDir, { recursive: true, force: true });

  try {
    const init = await run(
      path.join(bin, 'initdb'),
      ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'],
      runAs,
      baseDir,
    );
    if (init.code !== 0) throw new Error(`initdb (as ${runAs.name}) exited with ${init.code}:\n${init.output.trimEnd()}`);
  } catch (err) {
    removeBase();
    throw err;
  }

  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: 200,
    ...options.settings,
  };
  const serverOptions = (port: number) =>
    [`-p ${port}`, `-k ${shellQuote(sockDir)}`, ...Object.entries(settings).map(([k, v]) => `-c ${shellQuote(`${k}=${v}`)}`)].join(' ');

  const startOn = async (port: number): Promise<void> => {
    const res = await run(pgCtl, ['-w', '-t', '60', '-D', dataDir, '-l', logFile, '-o', serverOptions(port), 'start'], runAs, baseDir);
    if (res.code === 0) return;
    const tail = logTail();
    if (/could not bind .*address already in use|could not create any TCP\/IP sockets/is.test(tail)) {
      throw new PortTakenError(`port ${port} was taken`);
    }
    throw new Error(`pg_ctl start (as ${runAs.name}, port ${port}) exited with ${res.code}:\n${res.output.trimEnd()}\nserver log, last lines:\n${tail}`);
  };
  const pgCtlStop = (mode: 'fast' | 'immediate') => run(pgCtl, ['-w', '-t', '60', '-D', dataDir, '-m', mode, 'stop'], runAs, baseDir);

  let port = 0;
  let lastError: unknown;
  // Another process can take the probed port before the server binds it; try a fresh one.
  for (let attempt = 0; attempt < 3 && port === 0; attempt++) {
    const candidate = await freePort();
    try {
      await startOn(candidate);
      port = candidate;
    } catch (err) {
      lastError = err;
      if (!(err instanceof PortTakenError)) break;
    }
  }
  if (port === 0) {
    removeBase();
    throw lastError;
  }

  let running = true;
  let stopped = false;
  const watchdog = startWatchdog(bin, baseDir, dataDir, runAs);
  const killWatchdog = () => {
    if (watchdog?.pid !== undefined && watchdog.exitCode === null && watchdog.signalCode === null) {
      try {
        process.kill(watchdog.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  };
  track(baseDir, () => {
    killWatchdog();
    if (running) spawnSync(pgCtl, ['-w', '-t', '30', '-D', dataDir, '-m', 'immediate', 'stop'], { ...spawnOptions(runAs, tmpdir()), stdio: 'ignore' });
    removeBase();
  });

  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(database)}`;

  return {
    port,
    dataDir,
    baseDir,
    logFile,
    binDir: bin,
    get running() {
      return running;
    },
    url,
    createDatabase: (name) => createDatabaseAt(url(), name),
    dropDatabase: (nameOrUrl) => dropDatabaseAt(url(), nameOrUrl),
    async stopServer(opts = {}) {
      if (stopped) throw new Error('the cluster was stopped');
      if (!running) return;
      const res = await pgCtlStop(opts.mode ?? 'fast');
      if (res.code !== 0) throw new Error(`pg_ctl stop exited with ${res.code}:\n${res.output.trimEnd()}\nserver log:\n${logTail()}`);
      running = false;
    },
    async startServer() {
      if (stopped) throw new Error('the cluster was stopped');
      if (running) return;
      await startOn(port);
      running = true;
    },
    logTail,
    async stop() {
      if (stopped) return;
      stopped = true;
      killWatchdog();
      if (running) {
        running = false;
        await pgCtlStop('immediate');
      }
      removeBase();
      live.delete(baseDir);
    },
  };
}

/** A fresh database name: golive_test_<12 hex digits>. */
export function randomDatabaseName(prefix = 'golive_test_'): string {
  return `${prefix}${randomBytes(6).toString('hex')}`;
}

function checkedName(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${JSON.stringify(name)}`);
  return name;
}

/** The same server as `baseUrl`, another database. */
export function databaseUrl(baseUrl: string, database: string): string {
  const u = new URL(baseUrl);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

async function withAdminClient<T>(baseUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** CREATE DATABASE on the server of `baseUrl` (connected to as a superuser); resolves to the new database's URL. */
export async function createDatabaseAt(baseUrl: string, name: string = randomDatabaseName()): Promise<string> {
  const db = checkedName(name);
  await withAdminClient(baseUrl, (c) => c.query(`CREATE DATABASE "${db}"`));
  return databaseUrl(baseUrl, db);
}

/** DROP DATABASE IF EXISTS … WITH (FORCE) (PostgreSQL 13+) on the server of `baseUrl`; takes a name or a URL. */
export async function dropDatabaseAt(baseUrl: string, nameOrUrl: string): Promise<void> {
  const name = /^postgres(ql)?:\/\//.test(nameOrUrl) ? decodeURIComponent(new URL(nameOrUrl).pathname.slice(1)) : nameOrUrl;
  const db = checkedName(name);
  await withAdminClient(baseUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`));
}
