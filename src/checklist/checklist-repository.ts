import type { Store } from '../platform/store/store.js';

/** Current state of one checklist item (absent row = never touched = open). */
export interface ItemStateRow {
  item_id: string;
  checked: 0 | 1;
  changed_by: string;
  changed_at: string;
  note: string | null;
}

/** One role's sign-off of a gate. */
export interface SignoffRow {
  gate_id: string;
  role: string;
  user_id: string;
  signed_at: string;
}

/** A `/golive status` message we keep current with chat.update. */
export interface StatusMessageRow {
  channel: string;
  ts: string;
  viewer: string;
  gate_id: string | null;
  page: number;
  posted_at: string;
}

/** The checklist's tables: item states, gate sign-offs, and the status messages kept current. */
export class ChecklistRepository {
  constructor(private readonly store: Store) {}

  async itemStates(): Promise<Map<string, ItemStateRow>> {
    const rows = await this.store.all<ItemStateRow>('SELECT * FROM item_state');
    return new Map(rows.map((r) => [r.item_id, r]));
  }

  async itemState(itemId: string): Promise<ItemStateRow | undefined> {
    return this.store.get<ItemStateRow>('SELECT * FROM item_state WHERE item_id = ?', itemId);
  }

  /** Sets the item's state; returns false (and writes nothing) if it already had that state. */
  async setItemState(itemId: string, checked: boolean, by: string, at: string, note: string | null): Promise<boolean> {
    if (!checked) {
      // An item never touched is already open: nothing to write.
      return (await this.store.run('UPDATE item_state SET checked = 0, changed_by = ?, changed_at = ?, note = ? WHERE item_id = ? AND checked = 1', by, at, note, itemId)) === 1;
    }
    return (
      (await this.store.run(
        `INSERT INTO item_state (item_id, checked, changed_by, changed_at, note) VALUES (?, 1, ?, ?, ?)
         ON CONFLICT (item_id) DO UPDATE SET checked = excluded.checked, changed_by = excluded.changed_by,
           changed_at = excluded.changed_at, note = excluded.note
         WHERE item_state.checked <> excluded.checked`,
        itemId,
        by,
        at,
        note,
      )) === 1
    );
  }

  /** Signs an already signed-off item again (a new who, when and note); false if it is not signed off. */
  async resign(itemId: string, by: string, at: string, note: string | null): Promise<boolean> {
    return (await this.store.run('UPDATE item_state SET changed_by = ?, changed_at = ?, note = ? WHERE item_id = ? AND checked = 1', by, at, note, itemId)) === 1;
  }

  async signoffs(): Promise<SignoffRow[]> {
    return this.store.all<SignoffRow>('SELECT * FROM gate_signoff ORDER BY signed_at');
  }

  /** Records a role's sign-off; false if that role had already signed the gate. */
  async addSignoff(gateId: string, role: string, userId: string, at: string): Promise<boolean> {
    return (await this.store.run('INSERT INTO gate_signoff (gate_id, role, user_id, signed_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', gateId, role, userId, at)) === 1;
  }

  /** Withdraws every sign-off of a gate; returns the rows removed. */
  async clearSignoffs(gateId: string): Promise<SignoffRow[]> {
    const rows = await this.store.all<SignoffRow>('SELECT * FROM gate_signoff WHERE gate_id = ?', gateId);
    await this.store.run('DELETE FROM gate_signoff WHERE gate_id = ?', gateId);
    return rows;
  }

  async addStatusMessage(row: StatusMessageRow): Promise<void> {
    await this.store.run(
      `INSERT INTO status_message (channel, ts, viewer, gate_id, page, posted_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (channel, ts) DO UPDATE SET viewer = excluded.viewer, gate_id = excluded.gate_id, page = excluded.page, posted_at = excluded.posted_at`,
      row.channel,
      row.ts,
      row.viewer,
      row.gate_id,
      row.page,
      row.posted_at,
    );
  }

  /** Status messages posted since `since`, newest first (a channel's boards in the order Slack gave their ts). */
  async statusMessagesSince(since: string): Promise<StatusMessageRow[]> {
    return this.store.all<StatusMessageRow>('SELECT * FROM status_message WHERE posted_at >= ? ORDER BY posted_at DESC, ts DESC', since);
  }

  async statusMessage(channel: string, ts: string): Promise<StatusMessageRow | undefined> {
    return this.store.get<StatusMessageRow>('SELECT * FROM status_message WHERE channel = ? AND ts = ?', channel, ts);
  }

  async forgetStatusMessage(channel: string, ts: string): Promise<void> {
    await this.store.run('DELETE FROM status_message WHERE channel = ? AND ts = ?', channel, ts);
  }
}
