import type { Store } from './store.js';

/** Where a change came from, for the audit trail. */
export type AuditSource = 'command' | 'button' | 'system';

/** An audit row to write. `detail` is stored as JSON. */
export interface AuditInput {
  actor: string;
  action: string;
  target: string;
  detail?: Record<string, unknown>;
  source: AuditSource;
  channel?: string | null;
}

/** An audit row as read back. */
export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  detail: Record<string, unknown>;
  source: AuditSource;
  channel: string | null;
}

/** The audit trail: who changed what, when and from where. Every feature writes to it. */
export class AuditRepository {
  constructor(private readonly store: Store) {}

  /** Records one change; returns its id. */
  async record(entry: AuditInput, at: string): Promise<number> {
    return (await this.store.get<{ id: number }>(
      'INSERT INTO audit (at, actor, action, target, detail, source, channel) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id',
      at,
      entry.actor,
      entry.action,
      entry.target,
      JSON.stringify(entry.detail ?? {}),
      entry.source,
      entry.channel ?? null,
    ))!.id;
  }

  /** The newest `limit` audit rows, newest first. */
  async history(limit: number): Promise<AuditRow[]> {
    const rows = await this.store.all<Omit<AuditRow, 'detail'> & { detail: string }>('SELECT * FROM audit ORDER BY id DESC LIMIT ?', limit);
    return rows.map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
  }

  async count(): Promise<number> {
    return (await this.store.get<{ n: number }>('SELECT COUNT(*) AS n FROM audit'))!.n;
  }
}
