import type { Store } from '../platform/store/store.js';

/** The secret in the launch report's URL. One is live at a time. */
export class ReportLinkRepository {
  constructor(private readonly store: Store) {}

  /** The live token, if one was made. */
  async current(): Promise<string | undefined> {
    return (await this.store.get<{ token: string }>('SELECT token FROM report_link WHERE revoked_at IS NULL ORDER BY created_at DESC LIMIT 1'))?.token;
  }

  /** Whether this token is the live one. */
  async isLive(token: string): Promise<boolean> {
    return (await this.store.get<{ token: string }>('SELECT token FROM report_link WHERE token = ? AND revoked_at IS NULL', token)) !== undefined;
  }

  /** Revokes every live token and makes `token` the live one, in one transaction. */
  async replace(token: string, by: string, at: string): Promise<void> {
    await this.store.transaction(async () => {
      await this.store.run('UPDATE report_link SET revoked_at = ? WHERE revoked_at IS NULL', at);
      await this.store.run('INSERT INTO report_link (token, created_by, created_at) VALUES (?, ?, ?)', token, by, at);
    });
  }
}
