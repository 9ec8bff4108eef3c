import type { Store } from '../platform/store/store.js';

/** One escalation level as decided. */
export interface EscalationStepRow {
  id: number;
  subject: string;
  level: number;
  due_at: string;
  decided_at: string;
  fired: 0 | 1;
  detail: Record<string, unknown>;
  paged: 0 | 1;
  page_resolved_at: string | null;
}

/** The escalation levels decided, one row per level of each incident or alarm firing. */
export class EscalationRepository {
  constructor(private readonly store: Store) {}

  /** The levels of these subjects already decided, by subject. */
  async decided(subjects: readonly string[]): Promise<Map<string, Set<number>>> {
    const out = new Map<string, Set<number>>();
    if (subjects.length === 0) return out;
    const rows = await this.store.all<{ subject: string; level: number }>(`SELECT subject, level FROM escalation_step WHERE subject IN (${subjects.map(() => '?').join(', ')})`, ...subjects);
    for (const r of rows) {
      const set = out.get(r.subject) ?? new Set<number>();
      set.add(r.level);
      out.set(r.subject, set);
    }
    return out;
  }

  /** Claims a level for deciding; false if another sweep (or process) decided it first. */
  async claim(r: { subject: string; level: number; dueAt: string; at: string; fired: boolean; detail: Record<string, unknown>; paged: boolean }): Promise<boolean> {
    const row = await this.store.get<{ id: number }>(
      'INSERT INTO escalation_step (subject, level, due_at, decided_at, fired, detail, paged) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (subject, level) DO NOTHING RETURNING id',
      r.subject,
      r.level,
      r.dueAt,
      r.at,
      r.fired ? 1 : 0,
      JSON.stringify(r.detail),
      r.paged ? 1 : 0,
    );
    return row !== undefined;
  }

  /** Levels that paged and whose page is not resolved yet. */
  unresolvedPages(): Promise<{ subject: string }[]> {
    return this.store.all<{ subject: string }>('SELECT DISTINCT subject FROM escalation_step WHERE paged = 1 AND page_resolved_at IS NULL');
  }

  async markPageResolved(subject: string, at: string): Promise<void> {
    await this.store.run('UPDATE escalation_step SET page_resolved_at = ? WHERE subject = ? AND paged = 1 AND page_resolved_at IS NULL', at, subject);
  }

  async steps(subject: string): Promise<EscalationStepRow[]> {
    const rows = await this.store.all<Omit<EscalationStepRow, 'detail'> & { detail: string }>('SELECT * FROM escalation_step WHERE subject = ? ORDER BY level', subject);
    return rows.map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
  }
}
