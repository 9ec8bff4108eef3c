import type { Severity } from '../platform/runbook/schema.js';
import type { Store } from '../platform/store/store.js';

/** An incident as stored. */
export interface IncidentRow {
  id: number;
  severity: Severity;
  summary: string;
  services: string;
  state: 'declaring' | 'open' | 'resolved';
  commander: string;
  declared_by: string;
  declared_at: string;
  channel_id: string;
  channel_name: string;
  alarm_name: string | null;
  alarm_fired_at: string | null;
  updates: number;
  last_update_at: string | null;
  resolved_at: string | null;
  resolved_by: string | null;
  root_cause: string | null;
  resolution: string | null;
  acked_by: string | null;
  acked_at: string | null;
  escalated_at: string | null;
  paged_at: string | null;
  /** For one an alarm rule opened in a storm: `<storm id>:<rule match>` (the firings it covers). */
  storm_rule: string | null;
}

/** One line of an incident's timeline. */
export interface IncidentEvent {
  id: number;
  at: string;
  kind: string;
  actor: string;
  detail: Record<string, unknown>;
}

export type ReminderKind = 'update' | 'postmortem' | 'escalation' | 'rollback_prompt';

/** A reminder due and not yet sent or cancelled. */
export interface DueReminder {
  id: number;
  incident_id: number;
  kind: ReminderKind;
  due_at: string;
}

/** Incidents, their timeline events and their reminders. */
export class IncidentRepository {
  constructor(private readonly store: Store) {}

  async incident(id: number): Promise<IncidentRow | undefined> {
    return this.store.get<IncidentRow>('SELECT * FROM incident WHERE id = ?', id);
  }

  /** The declared (not still declaring) incident of a channel. */
  async inChannel(channelId: string): Promise<IncidentRow | undefined> {
    return this.store.get<IncidentRow>("SELECT * FROM incident WHERE channel_id = ? AND state <> 'declaring'", channelId);
  }

  async open(): Promise<IncidentRow[]> {
    return this.store.all<IncidentRow>("SELECT * FROM incident WHERE state = 'open' ORDER BY id");
  }

  /** The newest incident of this alarm firing, or any of the alarm's that is still declaring or open. */
  async forAlarm(name: string, firedAt: string): Promise<IncidentRow | undefined> {
    return this.store.get<IncidentRow>("SELECT * FROM incident WHERE alarm_name = ? AND (alarm_fired_at = ? OR state IN ('declaring', 'open')) ORDER BY id DESC LIMIT 1", name, firedAt);
  }

  /** The newest incident opened for an alarm rule in a storm (`storm_rule`), whatever its state. */
  async forStormRule(stormRule: string): Promise<IncidentRow | undefined> {
    return this.store.get<IncidentRow>('SELECT * FROM incident WHERE storm_rule = ? ORDER BY id DESC LIMIT 1', stormRule);
  }

  /** Declared incidents of these severities since `since`, oldest first. */
  async declaredSince(severities: readonly Severity[], since: string): Promise<Pick<IncidentRow, 'id' | 'severity' | 'declared_at'>[]> {
    return this.store.all<Pick<IncidentRow, 'id' | 'severity' | 'declared_at'>>(
      `SELECT id, severity, declared_at FROM incident WHERE severity IN (${severities.map(() => '?').join(', ')}) AND state <> 'declaring' AND declared_at >= ? ORDER BY id`,
      ...severities,
      since,
    );
  }

  /** Reserves an incident number before any Slack call; undefined when its alarm already has one (a unique index). */
  async reserve(r: { severity: Severity; summary: string; services: string; commander: string; declaredBy: string; at: string; placeholderChannel: string; alarm?: { name: string; firedAt: string }; stormRule?: string }): Promise<number | undefined> {
    return (await this.store.get<{ id: number }>(
      `INSERT INTO incident (severity, summary, services, state, commander, declared_by, declared_at, channel_id, channel_name, alarm_name, alarm_fired_at, storm_rule)
       VALUES (?, ?, ?, 'declaring', ?, ?, ?, ?, '', ?, ?, ?)
       ON CONFLICT DO NOTHING RETURNING id`,
      r.severity,
      r.summary,
      r.services,
      r.commander,
      r.declaredBy,
      r.at,
      r.placeholderChannel,
      r.alarm?.name ?? null,
      r.alarm?.firedAt ?? null,
      r.stormRule ?? null,
    ))?.id;
  }

  /** The reserved incident becomes open, in its channel. */
  async opened(id: number, channelId: string, channelName: string): Promise<void> {
    await this.store.run("UPDATE incident SET state = 'open', channel_id = ?, channel_name = ? WHERE id = ? AND state = 'declaring'", channelId, channelName, id);
  }

  /** Drops a reservation that never became an incident. */
  async dropReservation(id: number): Promise<void> {
    await this.store.run("DELETE FROM incident WHERE id = ? AND state = 'declaring'", id);
  }

  /** Marks the incident paged (first time only), so resolving it resolves the page whatever its severity is by then. */
  async markPaged(id: number, at: string): Promise<void> {
    await this.store.run('UPDATE incident SET paged_at = COALESCE(paged_at, ?) WHERE id = ?', at, id);
  }

  async clearPaged(id: number): Promise<void> {
    await this.store.run('UPDATE incident SET paged_at = NULL WHERE id = ?', id);
  }

  async recordUpdate(id: number, n: number, at: string): Promise<void> {
    await this.store.run('UPDATE incident SET updates = ?, last_update_at = ? WHERE id = ?', n, at, id);
  }

  /** Resolves an open incident; false if it was not open any more. */
  async resolve(id: number, by: string, at: string, rootCause: string, resolution: string): Promise<boolean> {
    return (await this.store.run("UPDATE incident SET state = 'resolved', resolved_at = ?, resolved_by = ?, root_cause = ?, resolution = ? WHERE id = ? AND state = 'open'", at, by, rootCause, resolution, id)) === 1;
  }

  /** Acknowledges an open incident nobody acknowledged yet; false otherwise. */
  async acknowledge(id: number, userId: string, at: string): Promise<boolean> {
    return (await this.store.run("UPDATE incident SET acked_by = ?, acked_at = ? WHERE id = ? AND acked_by IS NULL AND state = 'open'", userId, at, id)) === 1;
  }

  async setSeverity(id: number, severity: Severity): Promise<void> {
    await this.store.run('UPDATE incident SET severity = ? WHERE id = ?', severity, id);
  }

  async setCommander(id: number, commander: string): Promise<void> {
    await this.store.run('UPDATE incident SET commander = ? WHERE id = ?', commander, id);
  }

  async setRootCause(id: number, rootCause: string): Promise<void> {
    await this.store.run('UPDATE incident SET root_cause = ? WHERE id = ?', rootCause, id);
  }

  async markEscalated(id: number, at: string): Promise<void> {
    await this.store.run('UPDATE incident SET escalated_at = ? WHERE id = ?', at, id);
  }

  async addEvent(incidentId: number, kind: string, actor: string, detail: Record<string, unknown>, at: string): Promise<void> {
    await this.store.run('INSERT INTO incident_event (incident_id, at, kind, actor, detail) VALUES (?, ?, ?, ?, ?)', incidentId, at, kind, actor, JSON.stringify(detail));
  }

  async events(incidentId: number): Promise<IncidentEvent[]> {
    const rows = await this.store.all<Omit<IncidentEvent, 'detail'> & { detail: string }>('SELECT id, at, kind, actor, detail FROM incident_event WHERE incident_id = ? ORDER BY id', incidentId);
    return rows.map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
  }

  /** Schedules a reminder; the same due time coming back (two updates in one minute) revives it rather than losing it. */
  async schedule(incidentId: number, kind: ReminderKind, dueAt: string): Promise<void> {
    await this.store.run(
      'INSERT INTO reminder (incident_id, kind, due_at) VALUES (?, ?, ?) ON CONFLICT (incident_id, kind, due_at) DO UPDATE SET cancelled_at = NULL WHERE reminder.sent_at IS NULL',
      incidentId,
      kind,
      dueAt,
    );
  }

  async cancelReminders(incidentId: number, kind: ReminderKind, at: string): Promise<void> {
    await this.store.run('UPDATE reminder SET cancelled_at = ? WHERE incident_id = ? AND kind = ? AND sent_at IS NULL AND cancelled_at IS NULL', at, incidentId, kind);
  }

  async dueReminders(now: string): Promise<DueReminder[]> {
    return this.store.all<DueReminder>('SELECT id, incident_id, kind, due_at FROM reminder WHERE sent_at IS NULL AND cancelled_at IS NULL AND due_at <= ? ORDER BY due_at, id', now);
  }

  /** Claims a due reminder for sending; false if it was sent or cancelled meanwhile. */
  async claimReminder(id: number, at: string): Promise<boolean> {
    return (await this.store.run('UPDATE reminder SET sent_at = ? WHERE id = ? AND sent_at IS NULL AND cancelled_at IS NULL', at, id)) === 1;
  }

  /** Every declared incident, oldest first (the launch report). */
  all(): Promise<IncidentRow[]> {
    return this.store.all<IncidentRow>("SELECT * FROM incident WHERE state <> 'declaring' ORDER BY id");
  }
}
