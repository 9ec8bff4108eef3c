import type { WatchHealth } from '../health/watch-health.js';
import type { Outbox } from '../outbox/outbox.js';
import type { Runbook } from '../runbook/schema.js';
import type { Leadership } from '../leadership/leadership.js';
import type { Store } from '../store/store.js';
import type { Route } from './routes.js';

/**
 * `GET /healthz`: the database's and the runbook's state, and whether golive
 * can still watch alarms, page and deliver. 503 when a page of the database
 * does not read or a write does not commit; a failing watch answers 200 with
 * `"status": "degraded"` (README, "Health": a restart cannot bring CloudWatch,
 * PagerDuty or Slack back, and taking golive out of service would silence the
 * one thing saying so).
 */
export function healthRoute(deps: { store: Store; outbox: Outbox; health: WatchHealth; leadership: Leadership; mode: 'socket' | 'http'; runbookPath: string; runbook: Runbook }): Route {
  const { store, outbox, runbook } = deps;
  async function health() {
    const db = await store.health();
    const watches = db.ok ? await deps.health.status() : {};
    const degraded = Object.values(watches).some((w) => !w.ok);
    const pending = db.ok ? await outbox.pendingCount() : null;
    const lead = await deps.leadership.status();
    return {
      status: !db.ok ? 'error' : degraded ? 'degraded' : 'ok',
      mode: deps.mode,
      replica: { name: lead.replica, leading: lead.leading, ...(lead.leader ? { leader: lead.leader.replica, leader_since: lead.leader.since } : {}) },
      database: { ok: db.ok, kind: store.dialect, path: store.target, read: db.read, write: db.write, schema_version: db.ok ? db.schemaVersion : 0, outbox_pending: pending, ...(db.ok ? {} : { error: db.error }) },
      runbook: { ok: true, path: deps.runbookPath, launch: runbook.launch.name, gates: runbook.gates.length, items: runbook.gates.reduce((n, g) => n + g.items.length, 0) },
      ...(watches.alarms ? { alarms: { ...watchBody(watches.alarms), failed_polls: watches.alarms.failures } } : {}),
      ...(watches.pagerduty ? { pagerduty: { ...watchBody(watches.pagerduty), failed_deliveries: watches.pagerduty.failures } } : {}),
      ...(watches.outbox ? { outbox: watchBody(watches.outbox) } : {}),
    };
  }
  return {
    path: '/healthz',
    method: 'GET',
    handler: (_req, res) => {
      void health().then(
        (body) => {
          res.writeHead(body.status === 'error' ? 503 : 200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
          res.end(JSON.stringify(body));
        },
        () => res.writeHead(503).end(),
      );
    },
  };
}

function watchBody(w: { ok: boolean; since?: string; error?: string }): { ok: boolean; since?: string; error?: string } {
  return { ok: w.ok, ...(w.since ? { since: w.since, error: w.error } : {}) };
}
