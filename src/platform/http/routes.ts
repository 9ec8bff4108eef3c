import type { IncomingMessage, ServerResponse } from 'node:http';

/** One HTTP endpoint besides Slack's: /healthz, the alarm push hooks, the report pages. */
export interface Route {
  /** Exact, or with `:name` segments that match any one non-empty segment (`/reports/:token`), as Bolt's custom routes read them. */
  path: string;
  method: 'GET' | 'POST';
  handler(req: IncomingMessage, res: ServerResponse): void;
}

/** The routes in the shape Bolt's HTTPReceiver takes as `customRoutes`. */
export function boltRoutes(routes: readonly Route[]): { path: string; method: string[]; handler: Route['handler'] }[] {
  return routes.map((r) => ({ path: r.path, method: [r.method], handler: r.handler }));
}

/**
 * The same routes as a plain request listener, for Socket Mode: Bolt's
 * SocketModeReceiver can serve custom routes too, but keeps its HTTP server
 * private, so golive could not report the port it bound (PORT=0), wait for it
 * to close on stop(), or say clearly that the port is taken.
 */
export function routeListener(routes: readonly Route[]): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = req.url?.split('?')[0] ?? '';
    const route = routes.find((r) => pathMatches(r.path, path) && r.method === req.method);
    if (route) return route.handler(req, res);
    res.writeHead(404).end();
  };
}

/** Whether a request path fits a route's path, segment by segment (`:name` matches any one non-empty segment). */
export function pathMatches(pattern: string, path: string): boolean {
  const want = pattern.split('/');
  const got = path.split('/');
  return want.length === got.length && want.every((w, i) => (w.startsWith(':') ? got[i] !== '' : w === got[i]));
}
