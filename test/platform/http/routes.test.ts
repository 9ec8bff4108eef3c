import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { pathMatches, routeListener, type Route } from '../../../src/platform/http/routes.js';

describe('route paths', () => {
  it('match exactly, or with one non-empty segment per :name', () => {
    expect(pathMatches('/healthz', '/healthz')).toBe(true);
    expect(pathMatches('/healthz', '/healthz/x')).toBe(false);
    expect(pathMatches('/reports/:token', '/reports/abc')).toBe(true);
    expect(pathMatches('/reports/:token', '/reports/')).toBe(false);
    expect(pathMatches('/reports/:token', '/reports/abc/timeline.svg')).toBe(false);
    expect(pathMatches('/reports/:token/:file', '/reports/abc/timeline.svg')).toBe(true);
    expect(pathMatches('/reports/:token/:file', '/other/abc/timeline.svg')).toBe(false);
  });

  it('are served by the Socket Mode listener the same way, by method, anything else a 404', async () => {
    const routes: Route[] = [
      { path: '/healthz', method: 'GET', handler: (_req, res) => void res.end('ok') },
      { path: '/reports/:token/:file', method: 'GET', handler: (req, res) => void res.end(`file ${req.url}`) },
    ];
    const server = createServer(routeListener(routes)).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await (await fetch(`${base}/healthz?x=1`)).text()).toBe('ok');
      expect(await (await fetch(`${base}/reports/t0k/timeline.svg`)).text()).toBe('file /reports/t0k/timeline.svg');
      expect((await fetch(`${base}/reports/t0k/timeline.svg`, { method: 'POST' })).status).toBe(404);
      expect((await fetch(`${base}/reports/t0k`)).status).toBe(404);
    } finally {
      server.close();
    }
  });
});
