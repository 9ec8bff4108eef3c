import type { Store } from './store.js';

/**
 * Inbound request keys: Slack sends the same interaction again when golive
 * is slow (X-Slack-Retry-Num), and a key seen twice means a retry.
 */
export class RequestRepository {
  constructor(private readonly store: Store) {}

  /** True the first time a request key is seen; false for a retry or replay of it. */
  async claim(key: string, at: string): Promise<boolean> {
    return (await this.store.run('INSERT INTO inbound_request (request_key, received_at) VALUES (?, ?) ON CONFLICT DO NOTHING', key, at)) === 1;
  }

  /** Forgets keys received before `before`; returns how many. */
  async prune(before: string): Promise<number> {
    return this.store.run('DELETE FROM inbound_request WHERE received_at < ?', before);
  }
}
