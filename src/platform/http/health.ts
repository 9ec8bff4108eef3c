import type { Outbox } from '../outbox/outbox.js';
import type { Runbook } from '../runbook/schema.js';
import type { Store } from '../store/store.js';
import type { Route } from './routes.js';

/** `GET /healthz`: 200 with the database's and the runbook's state, 503 when a page of the database does not read or a write does not commit. */
export function healthRoute(deps: { store: Store; outbox: Outbox; mode: 'socket' | 'http'; dbPath: string; runbookPath: string; runbook: Runbook }): Route {
  const { store, outbox, runbook } = deps;
  async function health() {
    const db = await store.health();
    return {
      status: db.ok ? 'ok' : 'error',
      mode: deps.mode,
      database: { ok: db.ok, path: deps.dbPath, read: db.read, write: db.write, schema_version: db.ok ? db.schemaVersion : 0, outbox_pending: db.ok ? await outbox.pendingCount() : null, ...(db.ok ? {} : { error: db.error }) },
      runbook: { ok: true, path: deps.runbookPath, launch: runbook.launch.name, gates: runbook.gates.length, items: runbook.gates.reduce((n, g) => n + g.items.length, 0) },
    };
  }
  return {
    path: '/healthz',
    method: 'GET',
    handler: (_req, res) => {
      void health().then(
        (body) => {
          res.writeHead(body.status === 'ok' ? 200 : 503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
          res.end(JSON.stringify(body));
        },
        () => res.writeHead(503).end(),
      );
    },
  };
}
