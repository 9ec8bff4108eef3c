import { notLive } from '../leadership/replica-repository.js';
import type { Store } from './store.js';

/** An acknowledged request not yet finished: what is needed to run it again. */
export interface UnfinishedRequest {
  key: string;
  kind: string;
  /** The Slack payload, as JSON. */
  payload: string;
  receivedAt: string;
  /** The replica that has it (null: accepted before replicas were recorded); read by `orphaned` only. */
  replica?: string | null;
}

/**
 * The inbox of inbound requests. Each is written before Slack gets its ack:
 * the key makes a retry or replay of it a duplicate (Slack re-sends what it
 * thinks golive missed, X-Slack-Retry-Num), and the payload lets a restarted
 * golive finish what the previous process acknowledged but did not do.
 */
export class RequestRepository {
  constructor(private readonly store: Store) {}

  /**
   * Records a request; true the first time its key is seen, false for a retry
   * or replay. Without a payload there is nothing to run again, so it is done at once.
   * `replica` accepted it: it finishes the request, or, if it dies first, the leader does.
   */
  async receive(key: string, at: string, work?: { kind: string; payload: string }, replica: string | null = null): Promise<boolean> {
    const sql = 'INSERT INTO inbound_request (request_key, received_at, kind, payload, done_at, replica) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING';
    return (await this.store.run(sql, key, at, work?.kind ?? null, work?.payload ?? null, work ? null : at, replica)) === 1;
  }

  /** Marks a request handled; it is not run again after a restart. */
  async finish(key: string, at: string): Promise<void> {
    await this.store.run('UPDATE inbound_request SET done_at = ? WHERE request_key = ? AND done_at IS NULL', at, key);
  }

  /** Requests acknowledged and not finished, oldest first. */
  async unfinished(): Promise<UnfinishedRequest[]> {
    return this.store.all<UnfinishedRequest>(
      'SELECT request_key AS "key", kind, payload, received_at AS "receivedAt" FROM inbound_request WHERE done_at IS NULL AND payload IS NOT NULL ORDER BY received_at, request_key',
    );
  }

  /**
   * Unfinished requests nobody alive is handling, oldest first: `replica`'s own
   * from before `since` (its previous life under the same name), and, given a
   * cutoff, those of replicas not seen since it (or of none recorded).
   */
  async orphaned(replica: string, since: string, deadBefore: string | undefined): Promise<UnfinishedRequest[]> {
    const columns = 'SELECT request_key AS "key", kind, payload, received_at AS "receivedAt", replica FROM inbound_request WHERE done_at IS NULL AND payload IS NOT NULL';
    if (deadBefore === undefined) return this.store.all<UnfinishedRequest>(`${columns} AND replica = ? AND received_at < ? ORDER BY received_at, request_key`, replica, since);
    return this.store.all<UnfinishedRequest>(
      `${columns} AND ((replica = ? AND received_at < ?) OR (COALESCE(replica, '') <> ? AND ${notLive('inbound_request.replica')})) ORDER BY received_at, request_key`,
      replica,
      since,
      replica,
      replica,
      deadBefore,
    );
  }

  /** Moves an unfinished request from the replica that had it (`from`, as read) to `replica`; false if another got there first, or it is done. */
  async takeOver(key: string, from: string | null, replica: string): Promise<boolean> {
    return (await this.store.run("UPDATE inbound_request SET replica = ? WHERE request_key = ? AND done_at IS NULL AND COALESCE(replica, '') = ?", replica, key, from ?? '')) === 1;
  }

  /** Forgets finished requests received before `before`; returns how many. */
  async prune(before: string): Promise<number> {
    return this.store.run('DELETE FROM inbound_request WHERE received_at < ? AND done_at IS NOT NULL', before);
  }
}
