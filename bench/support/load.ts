import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { signSlackRequest } from '../../test/support/sign.js';

/** Outcome of one load run. */
export interface LoadResult {
  /** Milliseconds from sending each request (at a fixed rate: from when it was due) to the end of its response (Bolt's ack). */
  latencies: number[];
  /** Requests answered with something other than HTTP 200. */
  errors: number;
  wallMs: number;
}

/**
 * How requests reach the app: `reused` keeps connections open between requests (as many as are in flight);
 * `new` opens a connection per request and closes it after the answer, so accepting it is part of each figure.
 */
export type Connections = 'reused' | 'new';

interface Target {
  url: URL;
  agent: Agent;
}

function targetsOf(url: string | readonly string[], connections: Connections, maxSockets: number): Target[] {
  // keepAlive false: Node sends `Connection: close` and opens a socket per request.
  return (typeof url === 'string' ? [url] : url).map((u) => ({ url: new URL(u), agent: new Agent({ keepAlive: connections === 'reused', maxSockets }) }));
}

function signAll(bodies: readonly string[], secret: string) {
  return bodies.map((body) => ({ body, headers: { ...signSlackRequest(secret, body), 'Content-Length': String(Buffer.byteLength(body)) } }));
}

/** Sends one signed request; resolves with its status code once the answer has been read. */
function send(target: Target, signed: { body: string; headers: Record<string, string> }): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const req = request({ host: target.url.hostname, port: target.url.port, path: target.url.pathname, method: 'POST', agent: target.agent, headers: signed.headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`no answer from ${target.url.href} within 30 s`)));
    req.end(signed.body);
  });
}

/**
 * POSTs every body to `url`, signed like Slack, with `concurrency` requests in
 * flight (a closed loop: each sender sends its next once the last is answered).
 * Bodies are signed before the clock starts, so the figures are the server's,
 * not the HMAC's. Several URLs (replicas) take the requests in turn, as a
 * round-robin load balancer hands them out.
 */
export async function runLoad(url: string | readonly string[], bodies: readonly string[], concurrency: number, secret: string, connections: Connections = 'reused'): Promise<LoadResult> {
  const targets = targetsOf(url, connections, concurrency);
  const signed = signAll(bodies, secret);
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const one = async (i: number) => {
    const start = performance.now();
    const status = await send(targets[i % targets.length]!, signed[i]!);
    latencies.push(performance.now() - start);
    if (status !== 200) errors += 1;
  };
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < signed.length) await one(next++);
    }),
  );
  const wallMs = performance.now() - t0;
  for (const t of targets) t.agent.destroy();
  return { latencies, errors, wallMs };
}

/**
 * POSTs the bodies at a fixed arrival rate (an open loop: request i is due at
 * i / `perSecond` s, whether or not earlier ones were answered, as Slack sends
 * what people do). Each latency runs from when its request was due, so a
 * sender that fell behind counts against the figure rather than hiding it (one sent
 * before it was due, from when it was sent).
 */
export async function runAtRate(url: string, bodies: readonly string[], perSecond: number, secret: string, connections: Connections = 'reused'): Promise<LoadResult> {
  const [target] = targetsOf(url, connections, Infinity);
  const signed = signAll(bodies, secret);
  const latencies: number[] = [];
  let errors = 0;
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < signed.length; i++) {
    const due = t0 + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    // Sent up to a millisecond early (a timer is no finer), it counts from when it was sent.
    const from = Math.max(due, performance.now());
    pending.push(
      send(target!, signed[i]!).then(
        (status) => {
          latencies.push(performance.now() - from);
          if (status !== 200) errors += 1;
        },
        () => {
          errors += 1;
        },
      ),
    );
  }
  await Promise.all(pending);
  const wallMs = performance.now() - t0;
  target!.agent.destroy();
  return { latencies, errors, wallMs };
}
