import { notLive } from '../platform/leadership/replica-repository.js';
import type { Store } from '../platform/store/store.js';

/** One deploy or rollback that ECS ran. */
export interface DeployRow {
  id: number;
  service: string;
  kind: 'deploy' | 'rollback';
  from_task_def: string | null;
  to_task_def: string;
  image: string | null;
  requested_by: string;
  request_id: number | null;
  started_at: string;
  finished_at: string | null;
  outcome: 'running' | 'succeeded' | 'failed';
  reason: string | null;
  channel: string | null;
  message_ts: string | null;
  update_sent_at: string | null;
  /** The replica watching the rollout: the one that started it, or took it over when that one died. */
  watched_by?: string | null;
}

/** The deploy history: every deploy and rollback, the record rollbacks pick their target from. */
export class DeployRepository {
  constructor(private readonly store: Store) {}

  /** Records a rollout starting; undefined when the service already has one running (one rollout per service). */
  async startDeploy(row: Omit<DeployRow, 'id' | 'finished_at' | 'outcome' | 'reason' | 'message_ts' | 'update_sent_at'>): Promise<number | undefined> {
    return (await this.store.get<{ id: number }>(
      `INSERT INTO deploy (service, kind, from_task_def, to_task_def, image, requested_by, request_id, started_at, channel, watched_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING RETURNING id`,
      row.service,
      row.kind,
      row.from_task_def,
      row.to_task_def,
      row.image,
      row.requested_by,
      row.request_id,
      row.started_at,
      row.channel,
      row.watched_by ?? null,
    ))?.id;
  }

  /**
   * Makes `replica` the watcher of a running rollout whose watcher is not a
   * live replica (see `notLive`); one statement, so of two replicas trying,
   * one gets it. False if it finished, or a live replica watches it.
   */
  async takeOver(id: number, replica: string, deadBefore: string): Promise<boolean> {
    return (await this.store.run(`UPDATE deploy SET watched_by = ? WHERE id = ? AND outcome = 'running' AND ${notLive('deploy.watched_by')}`, replica, id, replica, deadBefore)) === 1;
  }

  async markUpdateSent(id: number, at: string): Promise<void> {
    await this.store.run('UPDATE deploy SET update_sent_at = ? WHERE id = ?', at, id);
  }

  async setDeployTarget(id: number, toTaskDef: string): Promise<void> {
    await this.store.run('UPDATE deploy SET to_task_def = ? WHERE id = ?', toTaskDef, id);
  }

  async setDeployMessage(id: number, channel: string, ts: string): Promise<void> {
    await this.store.run('UPDATE deploy SET channel = ?, message_ts = ? WHERE id = ?', channel, ts, id);
  }

  /** Records the outcome once; false if the deploy had already finished. */
  async finishDeploy(id: number, outcome: 'succeeded' | 'failed', reason: string | null, at: string): Promise<boolean> {
    return (await this.store.run("UPDATE deploy SET outcome = ?, reason = ?, finished_at = ? WHERE id = ? AND outcome = 'running'", outcome, reason, at, id)) === 1;
  }

  async deploy(id: number): Promise<DeployRow | undefined> {
    return this.store.get<DeployRow>('SELECT * FROM deploy WHERE id = ?', id);
  }

  async runningDeploys(): Promise<DeployRow[]> {
    return this.store.all<DeployRow>("SELECT * FROM deploy WHERE outcome = 'running' ORDER BY id");
  }

  /** Running deploys no live replica but `replica` watches (see `notLive`), oldest first. */
  async orphanedRunning(replica: string, deadBefore: string): Promise<DeployRow[]> {
    return this.store.all<DeployRow>(`SELECT * FROM deploy WHERE outcome = 'running' AND ${notLive('deploy.watched_by')} ORDER BY id`, replica, deadBefore);
  }

  async runningDeployFor(service: string): Promise<DeployRow | undefined> {
    return this.store.get<DeployRow>("SELECT * FROM deploy WHERE service = ? AND outcome = 'running' ORDER BY id DESC LIMIT 1", service);
  }

  /** Successful deploys of a service, newest first. */
  async successfulDeploys(service: string, limit = 50): Promise<DeployRow[]> {
    return this.store.all<DeployRow>("SELECT * FROM deploy WHERE service = ? AND outcome = 'succeeded' ORDER BY id DESC LIMIT ?", service, limit);
  }

  /** The latest rollout an approval request started, if any. */
  async deployOfRequest(requestId: number): Promise<DeployRow | undefined> {
    return this.store.get<DeployRow>('SELECT * FROM deploy WHERE request_id = ? ORDER BY id DESC LIMIT 1', requestId);
  }

  /** The service of the newest deploy (not rollback), whatever its outcome. */
  async lastDeployedService(): Promise<string | undefined> {
    return (await this.store.get<{ service: string }>("SELECT service FROM deploy WHERE kind = 'deploy' ORDER BY id DESC LIMIT 1"))?.service;
  }

  /** Every deploy and rollback, oldest first (the launch report). */
  allDeploys(): Promise<DeployRow[]> {
    return this.store.all<DeployRow>('SELECT * FROM deploy ORDER BY id');
  }
}
