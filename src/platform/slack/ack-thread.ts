import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../logger.js';

/** What the accepting thread is started with. */
export interface AckThreadData {
  /** The port Slack reaches golive on (0: any free one). */
  port: number;
  /** The main thread's own HTTP server (Bolt's receiver, the other routes), on 127.0.0.1. */
  mainPort: number;
  signingSecret: string;
  dbPath: string;
  dbPassword?: string;
  replica: string;
}

/** A request the accepting thread recorded in the inbox and acknowledged, for the main thread to run. */
export interface AcceptedRequest {
  key: string;
  /** The body as Bolt reads it, as JSON. */
  json: string;
  /** False for a retry or replay of one recorded already (nothing is run for it). */
  first: boolean;
  retryNum?: number;
  retryReason?: string;
}

/** Messages from the accepting thread. */
export type FromAckThread =
  | { listening: number }
  | { failed: string }
  | { stopped: true }
  | { request: AcceptedRequest }
  | { log: 'warn' | 'error'; msg: string; detail: string };

/** Messages to the accepting thread. */
export type ToAckThread = { stop: true };

/** The running accepting thread (started again on the same port if it ever ends on its own). */
export interface AckThread {
  /** The port it listens on. */
  readonly port: number;
  /** The thread running now (a new one after a restart). */
  readonly thread: Worker;
  /** Stops accepting, waits for the requests it has to be answered; every one it acknowledged has been handed over by then. */
  stop(): Promise<void>;
}

/**
 * Starts the thread that accepts Slack's requests (golive's ack path): on its
 * own event loop, so that the work after an ack, on the main thread, does not
 * delay accepting and acknowledging the next request. It records each command,
 * click, shortcut and event in the inbox (its own database connection) before
 * answering 200, then hands it to `onRequest`; anything else (a form whose
 * answer depends on the listener, a URL check, an unsigned request, /healthz
 * and the other routes) it passes unchanged to the main thread's server on
 * `mainPort`, which answers as it would without this thread.
 */
export async function startAckThread(data: AckThreadData, onRequest: (request: AcceptedRequest) => void, logger: Logger, restartDelayMs = 1000): Promise<AckThread> {
  // Built, the thread is JavaScript beside this file; from the sources (tests, `npm run dev`), TypeScript run through tsx.
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './ack-worker-from-source.mjs' : './ack-worker.js', import.meta.url);
  let stopping = false;
  let stopped: (() => void) | undefined;
  let worker: Worker;
  let currentPort = data.port;

  /** Starts a thread on `port`; resolves with the port it listens on. */
  const spawn = (port: number): Promise<number> => {
    const w = new Worker(entry, { workerData: { ...data, port } satisfies AckThreadData });
    worker = w;
    return new Promise<number>((resolve, reject) => {
      let listening = false;
      w.on('message', (m: FromAckThread) => {
        if ('request' in m) onRequest(m.request);
        else if ('listening' in m) {
          listening = true;
          currentPort = m.listening;
          resolve(m.listening);
        } else if ('failed' in m) reject(new Error(m.failed));
        else if ('stopped' in m) stopped?.();
        else logger[m.log]({ detail: m.detail }, m.msg);
      });
      w.on('error', (err) => (listening ? logger.error({ err }, 'the accepting thread failed') : reject(err)));
      w.once('exit', (code) => {
        if (!listening) return reject(new Error(`the accepting thread ended (exit code ${code}) before it listened`));
        if (stopping) return;
        // Without it nothing reaches golive (not even /healthz): a new one takes the same port.
        logger.error({ code }, 'the accepting thread ended; starting another');
        void respawn(currentPort);
      });
    }).catch(async (err: unknown) => {
      await w.terminate();
      throw err;
    });
  };
  const respawn = async (port: number): Promise<void> => {
    for (let attempt = 1; !stopping; attempt++) {
      await sleep(restartDelayMs);
      if (stopping) return;
      try {
        await spawn(port);
        logger.info({ port, attempt }, 'the accepting thread listens again');
        return;
      } catch (err) {
        logger.error({ err, port, attempt }, 'could not start the accepting thread again; trying again');
      }
    }
  };

  const port = await spawn(data.port);
  return {
    port,
    get thread() {
      return worker;
    },
    async stop() {
      stopping = true;
      const w = worker;
      const done = new Promise<void>((resolve) => (stopped = resolve));
      w.postMessage({ stop: true } satisfies ToAckThread);
      // Messages arrive in order: "stopped" comes after every request the thread handed over.
      await Promise.race([done, once(w, 'exit')]);
      await w.terminate();
    },
  };
}
