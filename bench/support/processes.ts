import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { freePort } from '../../test/support/free-port.js';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROJECT_ROOT } from '../../test/support/start-app.js';
import type { SlackTally } from './slack-server.js';

/** A server process the benchmarks drive over HTTP. */
export interface BenchProcess {
  url: string;
  pid: number;
  /** Milliseconds from spawn until it answered HTTP (for golive: /healthz said 200). */
  startupMs: number;
  /** Memory after a forced full GC inside the process. */
  memory(): Promise<NodeJS.MemoryUsage>;
  stop(): Promise<void>;
}

const PROBE = ['--expose-gc', '--import', './bench/support/probe.mjs'];

/**
 * Starts golive as production does (`node dist/src/main.js`, configured by
 * environment) with the memory probe preloaded. Needs `npm run build` first.
 */
export function spawnGolive(env: Record<string, string>, logFile: string): Promise<BenchProcess> {
  return spawnServer([...PROBE, 'dist/src/main.js'], env, logFile, '/healthz', true);
}

/** Starts the ack-only Bolt app of bench/baseline-app.ts. */
export function spawnBaseline(env: Record<string, string>, logFile: string): Promise<BenchProcess> {
  return spawnServer([...PROBE, '--import', 'tsx', 'bench/baseline-app.ts'], env, logFile, '/', false);
}

async function spawnServer(args: string[], env: Record<string, string>, logFile: string, probePath: string, needOk: boolean): Promise<BenchProcess> {
  const port = await freePort();
  const out = openSync(logFile, 'a');
  const t0 = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', out, out, 'ipc'],
  });
  closeSync(out);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited with ${signal ?? code}`));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`${path.basename(args[args.length - 1]!)} ${exited}; see ${logFile}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${args[args.length - 1]} did not answer within 60 s; see ${logFile}`);
    }
    try {
      const res = await fetch(`${url}${probePath}`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (!needOk || res.ok) break;
    } catch {
      // not listening yet
    }
    await sleep(5);
  }
  const startupMs = performance.now() - t0;
  return { url, pid: child.pid!, startupMs, memory: () => askMemory(child), stop: () => stop(child) };
}

function askMemory(child: ChildProcess): Promise<NodeJS.MemoryUsage> {
  return new Promise((resolve, reject) => {
    const onMessage = (msg: unknown) => {
      const m = msg as { memory?: NodeJS.MemoryUsage };
      if (!m.memory) return;
      child.off('message', onMessage);
      resolve(m.memory);
    };
    child.on('message', onMessage);
    child.send('memory', (err) => err && reject(err));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const done = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
  if (!done) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** The fake Slack of bench/support/slack-server.ts, running in its own process. */
export interface SlackProcess {
  /** Web API base URL for SLACK_API_URL. */
  url: string;
  /** A response_url on the fake (a fresh id unless one is given). */
  responseUrl(id?: string): string;
  tally(): Promise<SlackTally>;
  /** Waits until golive's after-ack work has drained: nothing new reached the fake Slack for `quietMs`. */
  settle(quietMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function spawnSlack(logFile: string): Promise<SlackProcess> {
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/support/slack-server.ts'], { cwd: PROJECT_ROOT, stdio: ['ignore', out, out, 'ipc'] });
  closeSync(out);
  const ready = await new Promise<{ url: string; responseBase: string }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`fake Slack exited with ${code}; see ${logFile}`)));
    child.on('message', (m) => {
      const r = (m as { ready?: { url: string; responseBase: string } }).ready;
      if (r) resolve(r);
    });
  });
  let counter = 0;
  const tally = () =>
    new Promise<SlackTally>((resolve) => {
      const onMessage = (m: unknown) => {
        const t = (m as { tally?: SlackTally }).tally;
        if (!t) return;
        child.off('message', onMessage);
        resolve(t);
      };
      child.on('message', onMessage);
      child.send('tally');
    });
  return {
    url: ready.url,
    responseUrl: (id) => `${ready.responseBase}/${encodeURIComponent(id ?? `b${++counter}`)}`,
    tally,
    async settle(quietMs = 400) {
      const deadline = Date.now() + 180_000;
      let seen = -1;
      let quietSince = Date.now();
      while (Date.now() < deadline) {
        const { activity } = await tally();
        if (activity !== seen) {
          seen = activity;
          quietSince = Date.now();
        } else if (Date.now() - quietSince >= quietMs) return;
        await sleep(50);
      }
      throw new Error('golive was still calling Slack after 180 s');
    },
    async close() {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.disconnect();
      await Promise.race([exited, sleep(3_000).then(() => child.kill('SIGKILL'))]);
    },
  };
}
