import { notLive } from '../platform/leadership/replica-repository.js';
import type { Store } from '../platform/store/store.js';
import type { CanaryEvidence, CanaryState } from './decide-canary.js';

/** One canary deploy as stored: its deploy row holds the service (the implicit lock) from start to end. */
export interface CanaryRow {
  id: number;
  deploy_id: number;
  service: string;
  canary_service: string;
  /** What the main service ran when the canary started: the version it is compared with, and what an abort returns the canary to. */
  stable_task_def: string;
  /** The new version; null until its revision is registered. */
  canary_task_def: string | null;
  desired_count: number;
  state: CanaryState;
  created_at: string;
  /** Set just before the canary service is asked to run the new version: after a restart, NULL proves ECS was never asked. */
  canary_update_sent_at: string | null;
  bake_started_at: string | null;
  bake_ends_at: string | null;
  evidence: CanaryEvidence | null;
  intervals: number;
  health_failures: number;
  decided_by: string | null;
  decided_at: string | null;
  decision_note: string | null;
  promoted_how: 'click' | 'auto' | 'override' | null;
  abort_reason: string | null;
  aborted_by: string | null;
  /** When the analysis saw the evidence that aborted it, and when ECS took the scale-down: the abort's reaction time. */
  abort_detected_at: string | null;
  abort_sent_at: string | null;
  scorecard_channel: string | null;
  scorecard_ts: string | null;
  updated_at: string;
  /** The replica carrying it on: the one that started it, decided it, or took it over when that one died. */
  watched_by?: string | null;
}

type RawCanary = Omit<CanaryRow, 'evidence'> & { evidence: string | null };
const parse = (r: RawCanary): CanaryRow => ({ ...r, evidence: r.evidence ? (JSON.parse(r.evidence) as CanaryEvidence) : null });

/** Fields a state change may set with it. */
export type CanaryFields = Partial<Pick<CanaryRow, 'bake_started_at' | 'bake_ends_at' | 'decided_by' | 'decided_at' | 'decision_note' | 'promoted_how' | 'abort_reason' | 'aborted_by' | 'abort_detected_at'>>;

const SETTABLE: readonly (keyof CanaryFields)[] = ['bake_started_at', 'bake_ends_at', 'decided_by', 'decided_at', 'decision_note', 'promoted_how', 'abort_reason', 'aborted_by', 'abort_detected_at'];

/** The canary table. State moves only by compare-and-set. */
export class CanaryRepository {
  constructor(private readonly store: Store) {}

  async create(row: Pick<CanaryRow, 'deploy_id' | 'service' | 'canary_service' | 'stable_task_def' | 'desired_count' | 'created_at'> & { watched_by: string }): Promise<number> {
    return (await this.store.get<{ id: number }>(
      `INSERT INTO canary (deploy_id, service, canary_service, stable_task_def, desired_count, state, created_at, updated_at, watched_by)
       VALUES (?, ?, ?, ?, ?, 'starting', ?, ?, ?) RETURNING id`,
      row.deploy_id,
      row.service,
      row.canary_service,
      row.stable_task_def,
      row.desired_count,
      row.created_at,
      row.created_at,
      row.watched_by,
    ))!.id;
  }

  /**
   * Makes `replica` the one carrying the canary on, if no live replica is
   * (see `notLive`): one statement, so of two replicas trying, one gets it.
   * Its deploy row follows (it names who watches the promotion's rollout).
   */
  async takeOver(id: number, replica: string, deadBefore: string): Promise<boolean> {
    const ok = (await this.store.run(`UPDATE canary SET watched_by = ? WHERE id = ? AND ${notLive('canary.watched_by')}`, replica, id, replica, deadBefore)) === 1;
    if (ok) await this.store.run('UPDATE deploy SET watched_by = ? WHERE id = (SELECT deploy_id FROM canary WHERE id = ?)', replica, id);
    return ok;
  }

  /** The replica that decided it (a Promote or Abort clicked there) carries the decision out. */
  async watchBy(id: number, replica: string): Promise<void> {
    await this.store.run('UPDATE canary SET watched_by = ? WHERE id = ?', replica, id);
    await this.store.run('UPDATE deploy SET watched_by = ? WHERE id = (SELECT deploy_id FROM canary WHERE id = ?)', replica, id);
  }

  async get(id: number): Promise<CanaryRow | undefined> {
    const r = await this.store.get<RawCanary>('SELECT * FROM canary WHERE id = ?', id);
    return r && parse(r);
  }

  async ofDeploy(deployId: number): Promise<CanaryRow | undefined> {
    const r = await this.store.get<RawCanary>('SELECT * FROM canary WHERE deploy_id = ?', deployId);
    return r && parse(r);
  }

  /** The newest canary of a service, whatever its state. */
  async latestFor(service: string): Promise<CanaryRow | undefined> {
    const r = await this.store.get<RawCanary>('SELECT * FROM canary WHERE service = ? ORDER BY id DESC LIMIT 1', service);
    return r && parse(r);
  }

  /** Canaries still in one of `states`, oldest first. */
  async inStates(states: readonly CanaryState[]): Promise<CanaryRow[]> {
    if (states.length === 0) return [];
    return (await this.store.all<RawCanary>(`SELECT * FROM canary WHERE state IN (${states.map(() => '?').join(', ')}) ORDER BY id`, ...states)).map(parse);
  }

  /** Compare-and-set: moves the canary from `from` to `to` (with `fields`) only if it is still in `from`. */
  async transition(id: number, from: CanaryState, to: CanaryState, at: string, fields: CanaryFields = {}): Promise<boolean> {
    const sets = SETTABLE.filter((k) => fields[k] !== undefined);
    const sql = `UPDATE canary SET state = ?, updated_at = ?${sets.map((k) => `, ${k} = ?`).join('')} WHERE id = ? AND state = ?`;
    return (await this.store.run(sql, to, at, ...sets.map((k) => fields[k] ?? null), id, from)) === 1;
  }

  async setCanaryTaskDef(id: number, taskDef: string, at: string): Promise<void> {
    await this.store.run('UPDATE canary SET canary_task_def = ?, updated_at = ? WHERE id = ?', taskDef, at, id);
  }

  async markCanaryUpdateSent(id: number, at: string): Promise<void> {
    await this.store.run('UPDATE canary SET canary_update_sent_at = ?, updated_at = ? WHERE id = ?', at, at, id);
  }

  /** Records one analysis interval's evidence, only while the canary is still in `state` (a decision made meanwhile wins). */
  async recordEvidence(id: number, state: CanaryState, evidence: CanaryEvidence, healthFailed: boolean, at: string): Promise<boolean> {
    return (
      (await this.store.run(
        'UPDATE canary SET evidence = ?, intervals = intervals + 1, health_failures = health_failures + ?, updated_at = ? WHERE id = ? AND state = ?',
        JSON.stringify(evidence),
        healthFailed ? 1 : 0,
        at,
        id,
        state,
      )) === 1
    );
  }

  async setAbortSent(id: number, at: string): Promise<void> {
    await this.store.run('UPDATE canary SET abort_sent_at = COALESCE(abort_sent_at, ?), updated_at = ? WHERE id = ?', at, at, id);
  }

  async setScorecard(id: number, channel: string, ts: string): Promise<void> {
    await this.store.run('UPDATE canary SET scorecard_channel = ?, scorecard_ts = ? WHERE id = ?', channel, ts, id);
  }
}
