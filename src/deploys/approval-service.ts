import type { Clock } from '../platform/clock.js';
import { GoliveError } from '../platform/errors.js';
import type { Runbook, Service } from '../platform/runbook/schema.js';
import type { AuditSource, ChangeRequestRow, RequestState, Store } from '../platform/store/store.js';
import type { RoleDirectory } from '../platform/roles/resolve-roles.js';

/** What a click on Approve did. */
export type ApproveOutcome =
  /** The last approval needed: the request is now `approved` and the caller executes it. */
  | { kind: 'approved'; request: ChangeRequestRow }
  /** Counted, more approvals needed. */
  | { kind: 'recorded'; request: ChangeRequestRow; approvals: number; needed: number }
  /** This approver had already approved. */
  | { kind: 'duplicate'; request: ChangeRequestRow }
  /** Decided, executing or expired before this click: nothing changed. */
  | { kind: 'decided'; request: ChangeRequestRow };

/** What a click on Reject or Cancel did. */
export type DecideOutcome = { kind: 'done'; request: ChangeRequestRow } | { kind: 'decided'; request: ChangeRequestRow };

const ACTIVE: RequestState[] = ['requested', 'approved', 'executing'];

/**
 * Persisted propose → approve → execute. Every state change is a
 * compare-and-set in one transaction with its audit row, so two approvers
 * clicking together, a double click or a Slack retry change state once.
 */
export class ApprovalService {
  constructor(
    private readonly runbook: Runbook,
    private readonly store: Store,
    private readonly roles: RoleDirectory,
    private readonly clock: Clock,
  ) {}

  service(name: string): Service {
    const s = this.runbook.services.find((x) => x.name === name);
    if (!s) throw new GoliveError('unknown_service', `Service \`${name}\` is no longer in the runbook.`);
    return s;
  }

  create(input: { kind: ChangeRequestRow['kind']; service: Service; params: Record<string, unknown>; requester: string; channel: string; source: AuditSource }): ChangeRequestRow {
    const now = this.clock.now();
    const at = now.toISOString();
    try {
      return this.insert(input, now, at);
    } catch (err) {
      // The unique index allows one open request per service; a racing second one lands here.
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        const open = this.active(input.service.name)[0];
        throw new GoliveError('deploy_in_progress', `Another request for \`${input.service.name}\` is already open${open ? ` (#${open.id}, by <@${open.requested_by}>)` : ''}; approve, reject or cancel it first.`);
      }
      throw err;
    }
  }

  private insert(input: { kind: ChangeRequestRow['kind']; service: Service; params: Record<string, unknown>; requester: string; channel: string; source: AuditSource }, now: Date, at: string): ChangeRequestRow {
    return this.store.transaction(() => {
      const id = this.store.createRequest({
        kind: input.kind,
        service: input.service.name,
        params: input.params,
        requested_by: input.requester,
        requested_at: at,
        expires_at: new Date(now.getTime() + input.service.approval_expires_minutes * 60_000).toISOString(),
        approvals_required: input.service.approvals_required,
        channel: input.channel,
      });
      this.store.audit({ actor: input.requester, action: `${input.kind}.request`, target: input.service.name, detail: { request: id, ...input.params }, source: input.source, channel: input.channel }, at);
      return this.store.request(id)!;
    });
  }

  get(id: number): ChangeRequestRow {
    const r = this.store.request(id);
    if (!r) throw new GoliveError('unknown_request', `There is no request #${id}.`);
    return r;
  }

  /** Whether the user may approve requests for this service. */
  async isApprover(userId: string, service: Service): Promise<boolean> {
    return (await this.roles.rolesOf(userId, service.rollback_approvers)).length > 0;
  }

  async approve(id: number, userId: string, source: AuditSource, channel: string | null): Promise<ApproveOutcome> {
    const request = this.expireIfDue(this.get(id));
    if (request.state !== 'requested') return { kind: 'decided', request };
    const service = this.service(request.service);
    if (request.requested_by === userId) {
      throw new GoliveError('not_permitted', `You asked for this ${describeKind(request.kind)}, so someone else has to approve it.`, `Approvers: ${this.approverNames(service)}.`);
    }
    if (!(await this.isApprover(userId, service))) {
      throw new GoliveError('not_permitted', `Only ${this.approverNames(service)} can approve a ${describeKind(request.kind)} of \`${service.name}\`.`);
    }
    const at = this.clock.now().toISOString();
    return this.store.transaction((): ApproveOutcome => {
      const current = this.store.request(id)!;
      if (current.state !== 'requested') return { kind: 'decided', request: current };
      // Checked again under the lock: the membership lookup above may have taken past the deadline.
      if (current.expires_at <= at) return { kind: 'decided', request: this.expireIfDue(current) };
      if (!this.store.addApproval(id, userId, at)) return { kind: 'duplicate', request: current };
      const approvals = this.store.approvals(id).length;
      this.store.audit({ actor: userId, action: `${current.kind}.approve`, target: current.service, detail: { request: id, approvals, needed: current.approvals_required }, source, channel }, at);
      if (approvals < current.approvals_required) return { kind: 'recorded', request: current, approvals, needed: current.approvals_required };
      this.store.transitionRequest(id, 'requested', 'approved', at, { decided_by: userId });
      return { kind: 'approved', request: this.store.request(id)! };
    });
  }

  async reject(id: number, userId: string, source: AuditSource, channel: string | null): Promise<DecideOutcome> {
    const request = this.expireIfDue(this.get(id));
    if (request.state !== 'requested') return { kind: 'decided', request };
    const service = this.service(request.service);
    if (!(await this.isApprover(userId, service))) {
      throw new GoliveError('not_permitted', `Only ${this.approverNames(service)} can reject a ${describeKind(request.kind)} of \`${service.name}\`.`, 'The requester can cancel it instead.');
    }
    return this.decide(id, 'rejected', userId, source, channel, `${request.kind}.reject`);
  }

  cancel(id: number, userId: string, source: AuditSource, channel: string | null): DecideOutcome {
    const request = this.expireIfDue(this.get(id));
    if (request.state !== 'requested') return { kind: 'decided', request };
    if (request.requested_by !== userId) throw new GoliveError('not_permitted', `Only <@${request.requested_by}>, who asked for it, can cancel this request.`);
    return this.decide(id, 'cancelled', userId, source, channel, `${request.kind}.cancel`);
  }

  /** Claims an approved request for execution; only one caller ever gets true. */
  beginExecution(id: number): boolean {
    const at = this.clock.now().toISOString();
    return this.store.transaction(() => {
      const ok = this.store.transitionRequest(id, 'approved', 'executing', at);
      if (ok) {
        const r = this.store.request(id)!;
        this.store.audit({ actor: 'golive', action: `${r.kind}.execute`, target: r.service, detail: { request: id }, source: 'system', channel: r.channel }, at);
      }
      return ok;
    });
  }

  /** Records how an executing request ended. */
  finish(id: number, ok: boolean, result: string): ChangeRequestRow {
    const at = this.clock.now().toISOString();
    return this.store.transaction(() => {
      if (this.store.transitionRequest(id, 'executing', ok ? 'succeeded' : 'failed', at, { result })) {
        const r = this.store.request(id)!;
        this.store.audit({ actor: 'golive', action: `${r.kind}.closed`, target: r.service, detail: { request: id, outcome: ok ? 'succeeded' : 'failed', result }, source: 'system', channel: r.channel }, at);
      }
      return this.store.request(id)!;
    });
  }

  /** Closes an approved request that will not run (e.g. its approval went stale over a restart). */
  abandon(id: number, reason: string): void {
    const at = this.clock.now().toISOString();
    this.store.transaction(() => {
      if (this.store.transitionRequest(id, 'approved', 'failed', at, { result: reason })) {
        const r = this.store.request(id)!;
        this.store.audit({ actor: 'golive', action: `${r.kind}.closed`, target: r.service, detail: { request: id, outcome: 'failed', result: reason }, source: 'system', channel: r.channel }, at);
      }
    });
  }

  /** Withdraws a request nobody could see (its card failed to post), so it does not block the service until it expires. */
  withdraw(id: number, reason: string): void {
    const at = this.clock.now().toISOString();
    this.store.transaction(() => {
      if (this.store.transitionRequest(id, 'requested', 'cancelled', at, { decided_by: 'golive', result: reason })) {
        const r = this.store.request(id)!;
        this.store.audit({ actor: 'golive', action: `${r.kind}.cancel`, target: r.service, detail: { request: id, reason }, source: 'system', channel: r.channel }, at);
      }
    });
  }

  /** Expires every open request whose time is up; returns them so their cards can be updated. */
  expireDue(): ChangeRequestRow[] {
    const now = this.clock.now().toISOString();
    return this.store.dueExpiries(now).flatMap((r) => {
      const e = this.expireIfDue(r);
      return e.state === 'expired' && r.state === 'requested' ? [e] : [];
    });
  }

  /** Requests left `executing` (the process died mid-way), for recovery on start. */
  executing(): ChangeRequestRow[] {
    return this.store.requestsInState('executing');
  }

  /** Requests still waiting or running for a service. */
  active(service: string): ChangeRequestRow[] {
    return ACTIVE.flatMap((s) => this.store.requestsInState(s)).filter((r) => r.service === service);
  }

  approverNames(service: Service): string {
    return service.rollback_approvers.map((r) => this.runbook.roles[r]?.name ?? r).join(' or ');
  }

  private expireIfDue(request: ChangeRequestRow): ChangeRequestRow {
    const now = this.clock.now().toISOString();
    if (request.state !== 'requested' || request.expires_at > now) return request;
    this.store.transaction(() => {
      if (this.store.transitionRequest(request.id, 'requested', 'expired', now)) {
        this.store.audit({ actor: 'golive', action: `${request.kind}.expire`, target: request.service, detail: { request: request.id }, source: 'system', channel: request.channel }, now);
      }
    });
    return this.store.request(request.id)!;
  }

  private decide(id: number, to: 'rejected' | 'cancelled', userId: string, source: AuditSource, channel: string | null, action: string): DecideOutcome {
    const at = this.clock.now().toISOString();
    return this.store.transaction((): DecideOutcome => {
      if (!this.store.transitionRequest(id, 'requested', to, at, { decided_by: userId })) return { kind: 'decided', request: this.store.request(id)! };
      const r = this.store.request(id)!;
      this.store.audit({ actor: userId, action, target: r.service, detail: { request: id }, source, channel }, at);
      return { kind: 'done', request: r };
    });
  }
}

function describeKind(kind: ChangeRequestRow['kind']): string {
  return kind === 'rollback' ? 'rollback' : 'deploy override';
}
