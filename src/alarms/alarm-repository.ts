import type { AlarmState } from '../platform/aws/cloudwatch-port.js';
import type { Store } from '../platform/store/store.js';

type State = AlarmState['state'];

/** The stored state of a watched alarm. */
export interface AlarmRow {
  name: string;
  state: State;
  reason: string;
  state_at: string;
  kind: string;
  region: string | null;
  seen_at: string;
  post_outbox_id: number | null;
  fired_at: string | null;
  acked_by: string | null;
  acked_at: string | null;
  flapping_since: string | null;
  /** Set while a flapping alarm's page is kept open instead of resolved. */
  page_held_since: string | null;
  /** The alarm storm its current (or last) firing is in, shown in the storm's thread; null for a firing with a post of its own. */
  storm_id: number | null;
}

/** One recorded transition of an alarm. */
export interface AlarmTransitionRow {
  id: number;
  at: string;
  from_state: string | null;
  to_state: string;
  reason: string;
}

/** The alarm watcher's tables: the last known state of each alarm, every transition once, and the watcher's own notes. */
export class AlarmRepository {
  constructor(private readonly store: Store) {}

  async alarm(name: string): Promise<AlarmRow | undefined> {
    return this.store.get<AlarmRow>('SELECT * FROM alarm_state WHERE name = ?', name);
  }

  /** Every watched alarm, by name. */
  async alarms(): Promise<AlarmRow[]> {
    return this.store.all<AlarmRow>('SELECT * FROM alarm_state ORDER BY name');
  }

  /** Each watched alarm's name, region and held page, in the order they were first seen. */
  async watched(): Promise<Pick<AlarmRow, 'name' | 'region' | 'page_held_since'>[]> {
    return this.store.all<Pick<AlarmRow, 'name' | 'region' | 'page_held_since'>>('SELECT name, region, page_held_since FROM alarm_state');
  }

  /**
   * Writes an alarm's state, unless the stored one is newer (a poll that read CloudWatch before a push arrived must
   * not write the older state back) — a stored time later than `trustUntil` is no reason: it came from the future.
   */
  async upsertState(row: { name: string; state: State; reason: string; stateAt: string; kind: string; region: string; seenAt: string; trustUntil: string }): Promise<void> {
    await this.store.run(
      `INSERT INTO alarm_state (name, state, reason, state_at, kind, region, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET state = excluded.state, reason = excluded.reason, state_at = excluded.state_at, kind = excluded.kind,
         region = excluded.region, seen_at = excluded.seen_at
       WHERE excluded.state_at >= alarm_state.state_at OR alarm_state.state_at > ?`,
      row.name,
      row.state,
      row.reason,
      row.stateAt,
      row.kind,
      row.region,
      row.seenAt,
      row.trustUntil,
    );
  }

  async forget(name: string): Promise<void> {
    await this.store.run('DELETE FROM alarm_state WHERE name = ?', name);
  }

  async acknowledge(name: string, userId: string, at: string): Promise<void> {
    await this.store.run('UPDATE alarm_state SET acked_by = ?, acked_at = ? WHERE name = ?', userId, at, name);
  }

  /** A new firing: its time, and nobody has acknowledged it yet. */
  async fired(name: string, at: string): Promise<void> {
    await this.store.run('UPDATE alarm_state SET fired_at = ?, acked_by = NULL, acked_at = NULL WHERE name = ?', at, name);
  }

  /** The firing joined a storm: its post is the thread reply that will show it (none yet). */
  async joinStorm(name: string, stormId: number): Promise<void> {
    await this.store.run('UPDATE alarm_state SET storm_id = ?, post_outbox_id = NULL WHERE name = ?', stormId, name);
  }

  /** A firing with a post of its own: in no storm. */
  async leaveStorm(name: string): Promise<void> {
    await this.store.run('UPDATE alarm_state SET storm_id = NULL WHERE name = ? AND storm_id IS NOT NULL', name);
  }

  /** The storm's thread reply that shows these firings becomes their alarms' post (unless an alarm has fired again since). */
  async setStormPost(stormId: number, firings: readonly { name: string; fired_at: string }[], outboxId: number): Promise<void> {
    for (const f of firings) await this.store.run('UPDATE alarm_state SET post_outbox_id = ? WHERE name = ? AND storm_id = ? AND fired_at = ?', outboxId, f.name, stormId, f.fired_at);
  }

  /** The stored states of a storm's alarms (whose firing is in it). */
  inStorm(stormId: number): Promise<AlarmRow[]> {
    return this.store.all<AlarmRow>('SELECT * FROM alarm_state WHERE storm_id = ?', stormId);
  }

  async setPost(name: string, outboxId: number | null): Promise<void> {
    await this.store.run('UPDATE alarm_state SET post_outbox_id = ? WHERE name = ?', outboxId, name);
  }

  async setFlappingSince(name: string, since: string | null): Promise<void> {
    await this.store.run('UPDATE alarm_state SET flapping_since = ? WHERE name = ?', since, name);
  }

  /** Holds the page open from `at`, unless it is already held. */
  async holdPage(name: string, at: string): Promise<void> {
    await this.store.run('UPDATE alarm_state SET page_held_since = COALESCE(page_held_since, ?) WHERE name = ?', at, name);
  }

  async releasePage(name: string): Promise<void> {
    await this.store.run('UPDATE alarm_state SET page_held_since = NULL WHERE name = ?', name);
  }

  /** Alarms whose page is held and that have been OK since `quietSince` or longer. */
  async settledWithHeldPage(quietSince: string): Promise<AlarmRow[]> {
    return this.store.all<AlarmRow>("SELECT * FROM alarm_state WHERE page_held_since IS NOT NULL AND state = 'OK' AND state_at <= ?", quietSince);
  }

  /** Records a transition once; false if it was already recorded (push and poll may both report it). */
  async addTransition(t: { name: string; from: string | null; to: State; at: string; reason: string; source: string; recordedAt: string }): Promise<boolean> {
    return (
      (await this.store.run(
        'INSERT INTO alarm_transition (name, from_state, to_state, at, reason, source, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
        t.name,
        t.from,
        t.to,
        t.at,
        t.reason,
        t.source,
        t.recordedAt,
      )) === 1
    );
  }

  /** How many transitions the alarm made after `after`, up to and including `until`. */
  async transitionCount(name: string, after: string, until: string): Promise<number> {
    return (await this.store.get<{ n: number }>('SELECT COUNT(*) AS n FROM alarm_transition WHERE name = ? AND at > ? AND at <= ?', name, after, until))!.n;
  }

  /** The alarm's transitions from `from` to `until`, in time order. */
  async transitions(name: string, from: string, until: string): Promise<AlarmTransitionRow[]> {
    return this.store.all<AlarmTransitionRow>('SELECT id, at, from_state, to_state, reason FROM alarm_transition WHERE name = ? AND at >= ? AND at <= ? ORDER BY at, id', name, from, until);
  }

  /** The reason CloudWatch gave when the alarm started firing at `firedAt` (the state row holds the latest). */
  async firingReason(name: string, firedAt: string): Promise<string | undefined> {
    return (await this.store.get<{ reason: string }>("SELECT reason FROM alarm_transition WHERE name = ? AND to_state = 'ALARM' AND at = ?", name, firedAt))?.reason;
  }

  async meta(key: string): Promise<string | undefined> {
    return (await this.store.get<{ value: string }>('SELECT value FROM watcher_meta WHERE key = ?', key))?.value;
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.store.run('INSERT INTO watcher_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', key, value);
  }

  /** Every recorded transition of every alarm, in time order (the launch report). */
  allTransitions(): Promise<(AlarmTransitionRow & { name: string })[]> {
    return this.store.all<AlarmTransitionRow & { name: string }>('SELECT id, name, at, from_state, to_state, reason FROM alarm_transition ORDER BY at, id');
  }
}
