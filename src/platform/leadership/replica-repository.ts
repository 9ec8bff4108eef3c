import type { Store } from '../store/store.js';

/** A replica as it last said it was alive. */
export interface ReplicaRow {
  name: string;
  seen_at: string;
}

/**
 * The `replica` table: each replica's last sign of life. Other tables name a
 * replica (who accepted a request, who watches a rollout); whether that one is
 * dead is asked in their own SQL, against this table, so the check and the
 * take-over are one statement.
 */
export class ReplicaRepository {
  constructor(private readonly store: Store) {}

  async beat(name: string, at: string): Promise<void> {
    await this.store.run('INSERT INTO replica (name, seen_at) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seen_at = excluded.seen_at', name, at);
  }

  /** A clean stop: the replica is gone at once, not after the dead time. */
  async forget(name: string): Promise<void> {
    await this.store.run('DELETE FROM replica WHERE name = ?', name);
  }

  /** Forgets replicas not seen since `before` (dead for long; their names are never reused by ECS). */
  async prune(before: string): Promise<number> {
    return this.store.run('DELETE FROM replica WHERE seen_at < ?', before);
  }

  all(): Promise<ReplicaRow[]> {
    return this.store.all<ReplicaRow>('SELECT name, seen_at FROM replica ORDER BY name');
  }
}

/**
 * SQL that is true when `column` (qualified, e.g. `deploy.watched_by`) names no
 * live replica but this one: NULL, this replica's own name (work of its
 * previous life with that name; what it runs now the caller skips), or a
 * replica not seen since the cutoff. Binds two parameters: this replica's
 * name, then the cutoff (see `Liveness.deadBefore`).
 */
export function notLive(column: string): string {
  return `(${column} IS NULL OR ${column} = ? OR NOT EXISTS (SELECT 1 FROM replica live WHERE live.name = ${column} AND live.seen_at >= ?))`;
}
