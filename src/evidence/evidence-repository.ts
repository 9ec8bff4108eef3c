import type { Store } from '../platform/store/store.js';
import type { StoredEvidence } from './decide-evidence.js';

/** One change of an item's outcome. */
export interface EvidenceChangeRow {
  id: number;
  item_id: string;
  at: string;
  outcome: StoredEvidence['outcome'];
  text: string;
  trigger: string;
}

/** The evidence tables: each item's latest result, and every change of outcome. */
export class EvidenceRepository {
  constructor(private readonly store: Store) {}

  async all(): Promise<Map<string, StoredEvidence>> {
    const rows = await this.store.all<StoredEvidence>('SELECT item_id, outcome, text, checked_at, since, drift_at, trigger FROM item_evidence');
    return new Map(rows.map((r) => [r.item_id, r]));
  }

  get(itemId: string): Promise<StoredEvidence | undefined> {
    return this.store.get<StoredEvidence>('SELECT item_id, outcome, text, checked_at, since, drift_at, trigger FROM item_evidence WHERE item_id = ?', itemId);
  }

  async save(e: StoredEvidence): Promise<void> {
    await this.store.run(
      `INSERT INTO item_evidence (item_id, outcome, text, checked_at, since, drift_at, trigger) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (item_id) DO UPDATE SET outcome = excluded.outcome, text = excluded.text, checked_at = excluded.checked_at,
         since = excluded.since, drift_at = excluded.drift_at, trigger = excluded.trigger`,
      e.item_id,
      e.outcome,
      e.text,
      e.checked_at,
      e.since,
      e.drift_at,
      e.trigger,
    );
  }

  async addChange(e: StoredEvidence): Promise<void> {
    await this.store.run('INSERT INTO evidence_change (item_id, at, outcome, text, trigger) VALUES (?, ?, ?, ?, ?)', e.item_id, e.checked_at, e.outcome, e.text, e.trigger);
  }

  /** An item's outcome changes, oldest first. */
  changes(itemId: string): Promise<EvidenceChangeRow[]> {
    return this.store.all<EvidenceChangeRow>('SELECT id, item_id, at, outcome, text, trigger FROM evidence_change WHERE item_id = ? ORDER BY id', itemId);
  }
}
