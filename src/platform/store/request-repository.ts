import type { Store } from './store.js';

/** An acknowledged request not yet finished: what is needed to run it again. */
export interface UnfinishedRequest {
  key: string;
  kind: string;
  /** The Slack payload, as JSON. */
  payload: string;
  receivedAt: string;
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
   */
  async receive(key: string, at: string, work?: { kind: string; payload: string }): Promise<boolean> {
    const sql = 'INSERT INTO inbound_request (request_key, received_at, kind, payload, done_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING';
    return (await this.store.run(sql, key, at, work?.kind ?? null, work?.payload ?? null, work ? null : at)) === 1;
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

  /** Forgets finished requests received before `before`; returns how many. */
  async prune(before: string): Promise<number> {
    return this.store.run('DELETE FROM inbound_request WHERE received_at < ? AND done_at IS NOT NULL', before);
  }
}
