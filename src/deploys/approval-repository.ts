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
}

type RawRequest = Omit<ChangeRequestRow, 'params'> & { params: string };
const parseRequest = (r: RawRequest): ChangeRequestRow => ({ ...r, params: JSON.parse(r.params) as Record<string, unknown> });

/** Approval requests (change_request) and the approvals they collect (change_approval). */
export class ApprovalRepository {
  constructor(private readonly store: Store) {}

  /** Files a request; undefined when the service already has an open one (one open change per service). */
  createRequest(row: Pick<ChangeRequestRow, 'kind' | 'service' | 'params' | 'requested_by' | 'requested_at' | 'expires_at' | 'approvals_required' | 'channel'>): number | undefined {
    return this.store.get<{ id: number }>(
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
    )?.id;
  }

  request(id: number): ChangeRequestRow | undefined {
    const r = this.store.get<RawRequest>('SELECT * FROM change_request WHERE id = ?', id);
    return r && parseRequest(r);
  }

  requestsInState(state: RequestState): ChangeRequestRow[] {
    return this.store.all<RawRequest>('SELECT * FROM change_request WHERE state = ? ORDER BY id', state).map(parseRequest);
  }

  setRequestMessage(id: number, channel: string, ts: string): void {
    this.store.run('UPDATE change_request SET channel = ?, message_ts = ? WHERE id = ?', channel, ts, id);
  }

  /** Compare-and-set: moves the request from `from` to `to` only if it is still in `from`. */
  transitionRequest(id: number, from: RequestState, to: RequestState, at: string, fields: { decided_by?: string; result?: string } = {}): boolean {
    const decided = fields.decided_by !== undefined ? 1 : 0;
    return (
      this.store.run(
        `UPDATE change_request SET state = ?, updated_at = ?,
           decided_by = CASE WHEN ? = 1 THEN ? ELSE decided_by END,
           decided_at = CASE WHEN ? = 1 THEN ? ELSE decided_at END,
           result = COALESCE(?, result)
         WHERE id = ? AND state = ?`,
        to,
        at,
        decided,
        fields.decided_by ?? null,
        decided,
        at,
        fields.result ?? null,
        id,
        from,
      ) === 1
    );
  }

  /** Records one approver's approval; false if they had already approved. */
  addApproval(requestId: number, userId: string, at: string): boolean {
    return this.store.run('INSERT INTO change_approval (request_id, user_id, approved_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', requestId, userId, at) === 1;
  }

  approvals(requestId: number): { user_id: string; approved_at: string }[] {
    return this.store.all<{ user_id: string; approved_at: string }>('SELECT user_id, approved_at FROM change_approval WHERE request_id = ? ORDER BY approved_at', requestId);
  }

  /** Open requests whose time is up, for the expiry sweep. */
  dueExpiries(now: string): ChangeRequestRow[] {
    return this.store.all<RawRequest>("SELECT * FROM change_request WHERE state = 'requested' AND expires_at <= ? ORDER BY id", now).map(parseRequest);
  }
}
