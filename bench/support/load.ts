import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { signSlackRequest } from '../../test/support/sign.js';

/** Outcome of one load run. */
export interface LoadResult {
  /** Milliseconds from sending each request to the end of its response (Bolt's ack). */
  latencies: number[];
  /** Requests answered with something other than HTTP 200. */
  errors: number;
  wallMs: number;
}

/**
 * POSTs every body to `url`, signed like Slack, with `concurrency` requests in
 * flight over as many keep-alive connections. Bodies are signed before the
 * clock starts, so the figures are the server's, not the HMAC's. Several URLs
 * (replicas) take the requests in turn, as a round-robin load balancer hands them out.
 */
export async function runLoad(url: string | readonly string[], bodies: readonly string[], concurrency: number, secret: string): Promise<LoadResult> {
  const targets = (typeof url === 'string' ? [url] : url).map((u) => ({ url: new URL(u), agent: new Agent({ keepAlive: true, maxSockets: concurrency }) }));
  const signed = bodies.map((body) => ({ body, headers: { ...signSlackRequest(secret, body), 'Content-Length': String(Buffer.byteLength(body)) } }));
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const one = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const { body, headers } = signed[i]!;
      const { url: target, agent } = targets[i % targets.length]!;
      const start = performance.now();
      const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - start);
          if (res.statusCode !== 200) errors += 1;
          resolve();
        });
      });
      req.on('error', reject);
      req.setTimeout(30_000, () => req.destroy(new Error(`no answer from ${target.href} within 30 s`)));
      req.end(body);
    });
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
