import type { Statement } from 'better-sqlite3';
import type { Db } from './open-database.js';

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

/** Where a change came from, for the audit trail. */
export type AuditSource = 'command' | 'button' | 'system';

/** An audit row to write. `detail` is stored as JSON. */
export interface AuditInput {
  actor: string;
  action: string;
  target: string;
  detail?: Record<string, unknown>;
  source: AuditSource;
  channel?: string | null;
}

/** An audit row as read back. */
export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  detail: Record<string, unknown>;
  source: AuditSource;
  channel: string | null;
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

/** Where an outbox row goes. */
export type OutboxTarget = 'slack' | 'pagerduty';

/** A Slack Web API call or PagerDuty event waiting to be delivered. */
export interface OutboxRow {
  id: number;
  target: OutboxTarget;
  /** The Slack method, or the PagerDuty event action. */
  method: string;
  args: Record<string, unknown>;
  created_at: string;
  attempts: number;
  next_attempt_at: string;
  /** Another row whose delivery result (a Slack ts) this one needs first. */
  depends_on: number | null;
  /** When a send was last started without Slack saying no: it may have been posted. */
  sending_at: string | null;
}

/** What became of a delivery. */
export interface OutboxOutcome {
  delivered_at: string | null;
  failed_at: string | null;
  last_error: string | null;
  result: Record<string, unknown> | null;
}

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
}

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
const parseRequest = (r: RawRequest | undefined): ChangeRequestRow | undefined => r && { ...r, params: JSON.parse(r.params) as Record<string, unknown> };

/**
 * The queries golive's services need, over one SQLite connection.
 * Writes that belong together go through `transaction` so a change and its
 * audit row land together or not at all.
 */
export class Store {
  /** Statements compiled once per SQL text: preparing them on every call was a few percent of golive's CPU under load (bench/README.md). */
  private readonly statements = new Map<string, Statement>();

  constructor(readonly db: Db) {}

  /** A statement compiled once per SQL text; services use it for their own queries too. */
  prepared(text: string): Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  /** Runs `fn` in one IMMEDIATE transaction (takes the write lock up front, so racing writers queue instead of failing). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  // --- checklist ---------------------------------------------------------

  itemStates(): Map<string, ItemStateRow> {
    const rows = this.prepared('SELECT * FROM item_state').all() as ItemStateRow[];
    return new Map(rows.map((r) => [r.item_id, r]));
  }

  itemState(itemId: string): ItemStateRow | undefined {
    return this.prepared('SELECT * FROM item_state WHERE item_id = ?').get(itemId) as ItemStateRow | undefined;
  }

  /** Sets the item's state; returns false (and writes nothing) if it already had that state. */
  setItemState(itemId: string, checked: boolean, by: string, at: string, note: string | null): boolean {
    if (!checked) {
      // An item never touched is already open: nothing to write.
      return this
        .prepared('UPDATE item_state SET checked = 0, changed_by = ?, changed_at = ?, note = ? WHERE item_id = ? AND checked = 1')
        .run(by, at, note, itemId).changes === 1;
    }
    const res = this
      .prepared(
        `INSERT INTO item_state (item_id, checked, changed_by, changed_at, note) VALUES (@itemId, @checked, @by, @at, @note)
         ON CONFLICT (item_id) DO UPDATE SET checked = excluded.checked, changed_by = excluded.changed_by,
           changed_at = excluded.changed_at, note = excluded.note
         WHERE item_state.checked <> excluded.checked`,
      )
      .run({ itemId, checked: checked ? 1 : 0, by, at, note });
    return res.changes === 1;
  }

  signoffs(): SignoffRow[] {
    return this.prepared('SELECT * FROM gate_signoff ORDER BY signed_at').all() as SignoffRow[];
  }

  /** Records a role's sign-off; false if that role had already signed the gate. */
  addSignoff(gateId: string, role: string, userId: string, at: string): boolean {
    return this.prepared('INSERT OR IGNORE INTO gate_signoff (gate_id, role, user_id, signed_at) VALUES (?, ?, ?, ?)').run(gateId, role, userId, at).changes === 1;
  }

  /** Withdraws every sign-off of a gate; returns the rows removed. */
  clearSignoffs(gateId: string): SignoffRow[] {
    const rows = this.prepared('SELECT * FROM gate_signoff WHERE gate_id = ?').all(gateId) as SignoffRow[];
    this.prepared('DELETE FROM gate_signoff WHERE gate_id = ?').run(gateId);
    return rows;
  }

  // --- audit -------------------------------------------------------------

  audit(entry: AuditInput, at: string): number {
    return Number(
      this
        .prepared('INSERT INTO audit (at, actor, action, target, detail, source, channel) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(at, entry.actor, entry.action, entry.target, JSON.stringify(entry.detail ?? {}), entry.source, entry.channel ?? null).lastInsertRowid,
    );
  }

  /** The newest `limit` audit rows, newest first. */
  history(limit: number): AuditRow[] {
    const rows = this.prepared('SELECT * FROM audit ORDER BY id DESC LIMIT ?').all(limit) as (Omit<AuditRow, 'detail'> & { detail: string })[];
    return rows.map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
  }

  auditCount(): number {
    return this.prepared('SELECT COUNT(*) FROM audit').pluck().get() as number;
  }

  // --- inbound de-duplication -------------------------------------------

  /** True the first time a request key is seen; false for a retry or replay of it. */
  claimRequest(key: string, at: string): boolean {
    return this.prepared('INSERT OR IGNORE INTO inbound_request (request_key, received_at) VALUES (?, ?)').run(key, at).changes === 1;
  }

  pruneRequests(before: string): number {
    return this.prepared('DELETE FROM inbound_request WHERE received_at < ?').run(before).changes;
  }

  // --- status messages ---------------------------------------------------

  addStatusMessage(row: StatusMessageRow): void {
    this
      .prepared('INSERT OR REPLACE INTO status_message (channel, ts, viewer, gate_id, page, posted_at) VALUES (@channel, @ts, @viewer, @gate_id, @page, @posted_at)')
      .run(row);
  }

  /** Status messages posted since `since`, newest first, at most `limit`. */
  recentStatusMessages(since: string, limit: number): StatusMessageRow[] {
    return this.prepared('SELECT * FROM status_message WHERE posted_at >= ? ORDER BY posted_at DESC LIMIT ?').all(since, limit) as StatusMessageRow[];
  }

  statusMessage(channel: string, ts: string): StatusMessageRow | undefined {
    return this.prepared('SELECT * FROM status_message WHERE channel = ? AND ts = ?').get(channel, ts) as StatusMessageRow | undefined;
  }

  forgetStatusMessage(channel: string, ts: string): void {
    this.prepared('DELETE FROM status_message WHERE channel = ? AND ts = ?').run(channel, ts);
  }

  // --- outbox ------------------------------------------------------------

  enqueue(method: string, args: Record<string, unknown>, at: string, opts: { target?: OutboxTarget; dependsOn?: number | null } = {}): number {
    return Number(
      this
        .prepared('INSERT INTO outbox (target, method, args, created_at, next_attempt_at, depends_on) VALUES (?, ?, ?, ?, ?, ?)')
        .run(opts.target ?? 'slack', method, JSON.stringify(args), at, at, opts.dependsOn ?? null).lastInsertRowid,
    );
  }

  dueOutbox(now: string, limit: number): OutboxRow[] {
    const rows = this
      .prepared(
        `SELECT id, target, method, args, created_at, attempts, next_attempt_at, depends_on, sending_at FROM outbox o
         WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?
           -- a reply waiting for its post does not take a place in the batch (it would starve pages behind it)
           AND (depends_on IS NULL OR EXISTS (SELECT 1 FROM outbox p WHERE p.id = o.depends_on AND (p.delivered_at IS NOT NULL OR p.failed_at IS NOT NULL)))
         ORDER BY id LIMIT ?`,
      )
      .all(now, limit) as (Omit<OutboxRow, 'args'> & { args: string })[];
    return rows.map((r) => ({ ...r, args: JSON.parse(r.args) as Record<string, unknown> }));
  }

  outboxOutcome(id: number): OutboxOutcome | undefined {
    const r = this.prepared('SELECT delivered_at, failed_at, last_error, result FROM outbox WHERE id = ?').get(id) as (Omit<OutboxOutcome, 'result'> & { result: string | null }) | undefined;
    return r && { ...r, result: r.result ? (JSON.parse(r.result) as Record<string, unknown>) : null };
  }

  /** Deliveries given up on, newest first, for operators to see. */
  failedOutbox(limit: number): { id: number; target: OutboxTarget; method: string; failed_at: string; last_error: string | null; args: Record<string, unknown> }[] {
    const rows = this.prepared('SELECT id, target, method, failed_at, last_error, args FROM outbox WHERE failed_at IS NOT NULL ORDER BY id DESC LIMIT ?').all(limit) as {
      id: number;
      target: OutboxTarget;
      method: string;
      failed_at: string;
      last_error: string | null;
      args: string;
    }[];
    return rows.map((r) => ({ ...r, args: JSON.parse(r.args) as Record<string, unknown> }));
  }

  /**
   * Whether an older row on the same stream is still undelivered: the same
   * PagerDuty dedup key (a resolve must not overtake its trigger) or the same
   * parent post (updates and replies keep their order).
   */
  hasOlderPending(row: OutboxRow): boolean {
    const key = row.target === 'pagerduty' ? row.args.dedupKey : undefined;
    if (typeof key === 'string') {
      return !!this
        .prepared("SELECT 1 FROM outbox WHERE id < ? AND target = 'pagerduty' AND delivered_at IS NULL AND failed_at IS NULL AND json_extract(args, '$.dedupKey') = ? LIMIT 1")
        .get(row.id, key);
    }
    if (row.depends_on !== null) {
      return !!this.prepared('SELECT 1 FROM outbox WHERE id < ? AND depends_on = ? AND delivered_at IS NULL AND failed_at IS NULL LIMIT 1').get(row.id, row.depends_on);
    }
    return false;
  }

  /** Records that a send is starting, before it leaves; survives a crash mid-call. */
  markSending(id: number, at: string): void {
    this.prepared('UPDATE outbox SET sending_at = ? WHERE id = ?').run(at, id);
  }

  /** Slack refused the send, so it was certainly not posted. */
  clearSending(id: number): void {
    this.prepared('UPDATE outbox SET sending_at = NULL WHERE id = ?').run(id);
  }

  markDelivered(id: number, at: string, result: unknown): void {
    this.prepared('UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, result = ?, last_error = NULL WHERE id = ?').run(at, JSON.stringify(result ?? null), id);
  }

  markRetry(id: number, error: string, nextAttemptAt: string): void {
    this.prepared('UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?').run(error, nextAttemptAt, id);
  }

  markFailed(id: number, at: string, error: string): void {
    this.prepared('UPDATE outbox SET attempts = attempts + 1, failed_at = ?, last_error = ? WHERE id = ?').run(at, error, id);
  }

  pendingOutboxCount(): number {
    return this.prepared('SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL').pluck().get() as number;
  }

  // --- deploys -----------------------------------------------------------

  startDeploy(row: Omit<DeployRow, 'id' | 'finished_at' | 'outcome' | 'reason' | 'message_ts' | 'update_sent_at'>): number {
    return Number(
      this
        .prepared(
          `INSERT INTO deploy (service, kind, from_task_def, to_task_def, image, requested_by, request_id, started_at, channel)
           VALUES (@service, @kind, @from_task_def, @to_task_def, @image, @requested_by, @request_id, @started_at, @channel)`,
        )
        .run(row).lastInsertRowid,
    );
  }

  markUpdateSent(id: number, at: string): void {
    this.prepared('UPDATE deploy SET update_sent_at = ? WHERE id = ?').run(at, id);
  }

  setDeployTarget(id: number, toTaskDef: string): void {
    this.prepared('UPDATE deploy SET to_task_def = ? WHERE id = ?').run(toTaskDef, id);
  }

  setDeployMessage(id: number, channel: string, ts: string): void {
    this.prepared('UPDATE deploy SET channel = ?, message_ts = ? WHERE id = ?').run(channel, ts, id);
  }

  /** Records the outcome once; false if the deploy had already finished. */
  finishDeploy(id: number, outcome: 'succeeded' | 'failed', reason: string | null, at: string): boolean {
    return this.prepared("UPDATE deploy SET outcome = ?, reason = ?, finished_at = ? WHERE id = ? AND outcome = 'running'").run(outcome, reason, at, id).changes === 1;
  }

  deploy(id: number): DeployRow | undefined {
    return this.prepared('SELECT * FROM deploy WHERE id = ?').get(id) as DeployRow | undefined;
  }

  runningDeploys(): DeployRow[] {
    return this.prepared("SELECT * FROM deploy WHERE outcome = 'running' ORDER BY id").all() as DeployRow[];
  }

  runningDeployFor(service: string): DeployRow | undefined {
    return this.prepared("SELECT * FROM deploy WHERE service = ? AND outcome = 'running' ORDER BY id DESC LIMIT 1").get(service) as DeployRow | undefined;
  }

  /** Successful deploys of a service, newest first. */
  successfulDeploys(service: string, limit = 50): DeployRow[] {
    return this.prepared("SELECT * FROM deploy WHERE service = ? AND outcome = 'succeeded' ORDER BY id DESC LIMIT ?").all(service, limit) as DeployRow[];
  }

  // --- approval requests ----------------------------------------------------

  createRequest(row: Pick<ChangeRequestRow, 'kind' | 'service' | 'params' | 'requested_by' | 'requested_at' | 'expires_at' | 'approvals_required' | 'channel'>): number {
    return Number(
      this
        .prepared(
          `INSERT INTO change_request (kind, service, params, requested_by, requested_at, expires_at, approvals_required, state, channel, updated_at)
           VALUES (@kind, @service, @params, @requested_by, @requested_at, @expires_at, @approvals_required, 'requested', @channel, @requested_at)`,
        )
        .run({ ...row, params: JSON.stringify(row.params) }).lastInsertRowid,
    );
  }

  request(id: number): ChangeRequestRow | undefined {
    return parseRequest(this.prepared('SELECT * FROM change_request WHERE id = ?').get(id) as RawRequest | undefined);
  }

  requestsInState(state: RequestState): ChangeRequestRow[] {
    return (this.prepared('SELECT * FROM change_request WHERE state = ? ORDER BY id').all(state) as RawRequest[]).map((r) => parseRequest(r)!);
  }

  setRequestMessage(id: number, channel: string, ts: string): void {
    this.prepared('UPDATE change_request SET channel = ?, message_ts = ? WHERE id = ?').run(channel, ts, id);
  }

  /** Compare-and-set: moves the request from `from` to `to` only if it is still in `from`. */
  transitionRequest(id: number, from: RequestState, to: RequestState, at: string, fields: { decided_by?: string; result?: string } = {}): boolean {
    const decided = fields.decided_by !== undefined;
    return (
      this
        .prepared(
          `UPDATE change_request SET state = @to, updated_at = @at,
             decided_by = CASE WHEN @decided THEN @decided_by ELSE decided_by END,
             decided_at = CASE WHEN @decided THEN @at ELSE decided_at END,
             result = COALESCE(@result, result)
           WHERE id = @id AND state = @from`,
        )
        .run({ id, from, to, at, decided: decided ? 1 : 0, decided_by: fields.decided_by ?? null, result: fields.result ?? null }).changes === 1
    );
  }

  /** Records one approver's approval; false if they had already approved. */
  addApproval(requestId: number, userId: string, at: string): boolean {
    return this.prepared('INSERT OR IGNORE INTO change_approval (request_id, user_id, approved_at) VALUES (?, ?, ?)').run(requestId, userId, at).changes === 1;
  }

  approvals(requestId: number): { user_id: string; approved_at: string }[] {
    return this.prepared('SELECT user_id, approved_at FROM change_approval WHERE request_id = ? ORDER BY approved_at').all(requestId) as { user_id: string; approved_at: string }[];
  }

  /** Open requests whose time is up, for the expiry sweep. */
  dueExpiries(now: string): ChangeRequestRow[] {
    return (this.prepared("SELECT * FROM change_request WHERE state = 'requested' AND expires_at <= ? ORDER BY id").all(now) as RawRequest[]).map((r) => parseRequest(r)!);
  }
}
