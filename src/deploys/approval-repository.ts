import { notLive } from '../platform/leadership/replica-repository.js';
import type { Store } from '../platform/store/store.js';

/** States of an approval request; moves only forward, by compare-and-set. */
export type RequestState = 'requested' | 'approved' | 'executing' | 'succeeded' | 'failed' | 'rejected' | 'expired' | 'cancelled';

/** A side effect waiting for (or past) approval. */
export interface ChangeRequestRow {
  id: number;
  kind: 'rollback' | 'deploy_override';
  service: string;
  params: Record<string, unknown>;
  requested_by: string;
  requested_at: string;
  expires_at: string;
  approvals_required: number;
  state: RequestState;
  decided_by: string | null;
  decided_at: string | null;
  result: string | null;
  channel: string | null;
  message_ts: string | null;
  updated_at: string;
  /** The replica running it once approved (executing). */
  executed_by?: string | null;
}

type RawRequest = Omit<ChangeRequestRow, 'params'> & { params: string };
const parseRequest = (r: RawRequest): ChangeRequestRow => ({ ...r, params: JSON.parse(r.params) as Record<string, unknown> });

/** Approval requests (change_request) and the approvals they collect (change_approval). */
export class ApprovalRepository {
  constructor(private readonly store: Store) {}

  /** Files a request; undefined when the service already has an open one (one open change per service). */
  async createRequest(row: Pick<ChangeRequestRow, 'kind' | 'service' | 'params' | 'requested_by' | 'requested_at' | 'expires_at' | 'approvals_required' | 'channel'>): Promise<number | undefined> {
    return (await this.store.get<{ id: number }>(
      `INSERT INTO change_request (kind, service, params, requested_by, requested_at, expires_at, approvals_required, state, channel, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'requested', ?, ?)
       ON CONFLICT DO NOTHING RETURNING id`,
      row.kind,
      row.service,
      JSON.stringify(row.params),
      row.requested_by,
      row.requested_at,
      row.expires_at,
      row.approvals_required,
      row.channel,
      row.requested_at,
    ))?.id;
  }

  async request(id: number): Promise<ChangeRequestRow | undefined> {
    const r = await this.store.get<RawRequest>('SELECT * FROM change_request WHERE id = ?', id);
    return r && parseRequest(r);
  }

  async requestsInState(state: RequestState): Promise<ChangeRequestRow[]> {
    return (await this.store.all<RawRequest>('SELECT * FROM change_request WHERE state = ? ORDER BY id', state)).map(parseRequest);
  }

  /** Requests in any of these states, oldest first. */
  async requestsInStates(states: readonly RequestState[]): Promise<ChangeRequestRow[]> {
    return (await this.store.all<RawRequest>(`SELECT * FROM change_request WHERE state IN (${states.map(() => '?').join(', ')}) ORDER BY id`, ...states)).map(parseRequest);
  }

  async setRequestMessage(id: number, channel: string, ts: string): Promise<void> {
    await this.store.run('UPDATE change_request SET channel = ?, message_ts = ? WHERE id = ?', channel, ts, id);
  }

  /** Compare-and-set: moves the request from `from` to `to` only if it is still in `from`. */
  async transitionRequest(id: number, from: RequestState, to: RequestState, at: string, fields: { decided_by?: string; result?: string; executed_by?: string } = {}): Promise<boolean> {
    const decided = fields.decided_by !== undefined ? 1 : 0;
    return (
      (await this.store.run(
        `UPDATE change_request SET state = ?, updated_at = ?,
           decided_by = CASE WHEN ? = 1 THEN ? ELSE decided_by END,
           decided_at = CASE WHEN ? = 1 THEN ? ELSE decided_at END,
           result = COALESCE(?, result),
           executed_by = COALESCE(?, executed_by)
         WHERE id = ? AND state = ?`,
        to,
        at,
        decided,
        fields.decided_by ?? null,
        decided,
        at,
        fields.result ?? null,
        fields.executed_by ?? null,
        id,
        from,
      )) === 1
    );
  }

  /** Makes `replica` the one running an executing request whose runner is not a live replica (see `notLive`); false if a live one runs it, or it ended. */
  async takeOverExecution(id: number, replica: string, deadBefore: string): Promise<boolean> {
    return (await this.store.run(`UPDATE change_request SET executed_by = ? WHERE id = ? AND state = 'executing' AND ${notLive('change_request.executed_by')}`, replica, id, replica, deadBefore)) === 1;
  }

  /** Records one approver's approval; false if they had already approved. */
  async addApproval(requestId: number, userId: string, at: string): Promise<boolean> {
    return (await this.store.run('INSERT INTO change_approval (request_id, user_id, approved_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', requestId, userId, at)) === 1;
  }

  async approvals(requestId: number): Promise<{ user_id: string; approved_at: string }[]> {
    return this.store.all<{ user_id: string; approved_at: string }>('SELECT user_id, approved_at FROM change_approval WHERE request_id = ? ORDER BY approved_at', requestId);
  }

  /** Open requests whose time is up, for the expiry sweep. */
  async dueExpiries(now: string): Promise<ChangeRequestRow[]> {
    return (await this.store.all<RawRequest>("SELECT * FROM change_request WHERE state = 'requested' AND expires_at <= ? ORDER BY id", now)).map(parseRequest);
  }
}
