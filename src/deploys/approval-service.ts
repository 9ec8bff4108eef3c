import type { Clock } from '../platform/clock.js';
import { GoliveError } from '../platform/errors.js';
import type { Runbook, Service } from '../platform/runbook/schema.js';
import { AuditRepository, type AuditSource } from '../platform/store/audit-repository.js';
import type { Store } from '../platform/store/store.js';
import { ApprovalRepository, type ChangeRequestRow, type RequestState } from './approval-repository.js';
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
  private readonly rows: ApprovalRepository;
  private readonly audit: AuditRepository;

  constructor(
    private readonly runbook: Runbook,
    private readonly store: Store,
    private readonly roles: RoleDirectory,
    private readonly clock: Clock,
    /** This replica's name, recorded on the requests it runs. */
    private readonly replica: string | null = null,
  ) {
    this.rows = new ApprovalRepository(store);
    this.audit = new AuditRepository(store);
  }

  service(name: string): Service {
    const s = this.runbook.services.find((x) => x.name === name);
    if (!s) throw new GoliveError('unknown_service', `Service \`${name}\` is no longer in the runbook.`);
    return s;
  }

  /**
   * Records a request. `refusal`, if given, runs inside the same transaction
   * first and its error refuses the request: what the caller checked before
   * its slow reads (e.g. that no deploy runs) is decided against current state.
   */
  async create(input: { kind: ChangeRequestRow['kind']; service: Service; params: Record<string, unknown>; requester: string; channel: string; source: AuditSource }, refusal?: () => Promise<GoliveError | undefined>): Promise<ChangeRequestRow> {
    const now = this.clock.now();
    const at = now.toISOString();
    return this.store.transaction(async () => {
      const refused = await refusal?.();
      if (refused) throw refused;
      const id = await this.rows.createRequest({
        kind: input.kind,
        service: input.service.name,
        params: input.params,
        requested_by: input.requester,
        requested_at: at,
        expires_at: new Date(now.getTime() + input.service.approval_expires_minutes * 60_000).toISOString(),
        approvals_required: input.service.approvals_required,
        channel: input.channel,
      });
      if (id === undefined) {
        // The unique index allows one open request per service; a racing second one lands here.
        const open = (await this.active(input.service.name))[0];
        throw new GoliveError('deploy_in_progress', `Another request for \`${input.service.name}\` is already open${open ? ` (#${open.id}, by <@${open.requested_by}>)` : ''}; approve, reject or cancel it first.`);
      }
      await this.audit.record({ actor: input.requester, action: `${input.kind}.request`, target: input.service.name, detail: { request: id, ...input.params }, source: input.source, channel: input.channel }, at);
      return (await this.rows.request(id))!;
    });
  }

  /** Requests waiting for approval, for App Home. */
  async waiting(): Promise<ChangeRequestRow[]> {
    return this.rows.requestsInState('requested');
  }

  /** Requests approved but not started (a restart came between), for recovery on start. */
  async approved(): Promise<ChangeRequestRow[]> {
    return this.rows.requestsInState('approved');
  }

  /** The request, or undefined if there is none. */
  async find(id: number): Promise<ChangeRequestRow | undefined> {
    return this.rows.request(id);
  }

  /** Updates where a request's card is. */
  async setCard(id: number, channel: string, ts: string): Promise<void> {
    await this.rows.setRequestMessage(id, channel, ts);
  }

  /** The user ids who approved a request, in order. */
  async approvers(id: number): Promise<string[]> {
    return (await this.rows.approvals(id)).map((a) => a.user_id);
  }

  async get(id: number): Promise<ChangeRequestRow> {
    const r = await this.rows.request(id);
    if (!r) throw new GoliveError('unknown_request', `There is no request #${id}.`);
    return r;
  }

  /** Whether the user may approve requests for this service. */
  async isApprover(userId: string, service: Service): Promise<boolean> {
    return (await this.roles.rolesOf(userId, service.rollback_approvers)).length > 0;
  }

  async approve(id: number, userId: string, source: AuditSource, channel: string | null): Promise<ApproveOutcome> {
    const request = await this.expireIfDue(await this.get(id));
    if (request.state !== 'requested') return { kind: 'decided', request };
    const service = this.service(request.service);
    if (request.requested_by === userId) {
      throw new GoliveError('not_permitted', `You asked for this ${describeKind(request.kind)}, so someone else has to approve it.`, `Approvers: ${this.approverNames(service)}.`);
    }
    if (!(await this.isApprover(userId, service))) {
      throw new GoliveError('not_permitted', `Only ${this.approverNames(service)} can approve a ${describeKind(request.kind)} of \`${service.name}\`.`);
    }
    const at = this.clock.now().toISOString();
    return this.store.transaction(async (): Promise<ApproveOutcome> => {
      const current = (await this.rows.request(id))!;
      if (current.state !== 'requested') return { kind: 'decided', request: current };
      // Checked again under the lock: the membership lookup above may have taken past the deadline.
      if (current.expires_at <= at) return { kind: 'decided', request: await this.expireIfDue(current) };
      if (!(await this.rows.addApproval(id, userId, at))) return { kind: 'duplicate', request: current };
      const approvals = (await this.rows.approvals(id)).length;
      await this.audit.record({ actor: userId, action: `${current.kind}.approve`, target: current.service, detail: { request: id, approvals, needed: current.approvals_required }, source, channel }, at);
      if (approvals < current.approvals_required) return { kind: 'recorded', request: current, approvals, needed: current.approvals_required };
      await this.rows.transitionRequest(id, 'requested', 'approved', at, { decided_by: userId });
      return { kind: 'approved', request: (await this.rows.request(id))! };
    });
  }

  async reject(id: number, userId: string, source: AuditSource, channel: string | null): Promise<DecideOutcome> {
    const request = await this.expireIfDue(await this.get(id));
    if (request.state !== 'requested') return { kind: 'decided', request };
    const service = this.service(request.service);
    if (!(await this.isApprover(userId, service))) {
      throw new GoliveError('not_permitted', `Only ${this.approverNames(service)} can reject a ${describeKind(request.kind)} of \`${service.name}\`.`, 'The requester can cancel it instead.');
    }
    return this.decide(id, 'rejected', userId, source, channel, `${request.kind}.reject`);
  }

  async cancel(id: number, userId: string, source: AuditSource, channel: string | null): Promise<DecideOutcome> {
    const request = await this.expireIfDue(await this.get(id));
    if (request.state !== 'requested') return { kind: 'decided', request };
    if (request.requested_by !== userId) throw new GoliveError('not_permitted', `Only <@${request.requested_by}>, who asked for it, can cancel this request.`);
    return this.decide(id, 'cancelled', userId, source, channel, `${request.kind}.cancel`);
  }

  /** Claims an approved request for execution (by this replica); only one caller ever gets true. */
  async beginExecution(id: number): Promise<boolean> {
    const at = this.clock.now().toISOString();
    return this.store.transaction(async () => {
      const ok = await this.rows.transitionRequest(id, 'approved', 'executing', at, this.replica ? { executed_by: this.replica } : {});
      if (ok) {
        const r = (await this.rows.request(id))!;
        await this.audit.record({ actor: 'golive', action: `${r.kind}.execute`, target: r.service, detail: { request: id }, source: 'system', channel: r.channel }, at);
      }
      return ok;
    });
  }

  /** Records how an executing request ended. */
  async finish(id: number, ok: boolean, result: string): Promise<ChangeRequestRow> {
    const at = this.clock.now().toISOString();
    return this.store.transaction(async () => {
      if (await this.rows.transitionRequest(id, 'executing', ok ? 'succeeded' : 'failed', at, { result })) {
        const r = (await this.rows.request(id))!;
        await this.audit.record({ actor: 'golive', action: `${r.kind}.closed`, target: r.service, detail: { request: id, outcome: ok ? 'succeeded' : 'failed', result }, source: 'system', channel: r.channel }, at);
      }
      return (await this.rows.request(id))!;
    });
  }

  /** Closes an approved request that will not run (e.g. its approval went stale over a restart). */
  async abandon(id: number, reason: string): Promise<void> {
    const at = this.clock.now().toISOString();
    await this.store.transaction(async () => {
      if (await this.rows.transitionRequest(id, 'approved', 'failed', at, { result: reason })) {
        const r = (await this.rows.request(id))!;
        await this.audit.record({ actor: 'golive', action: `${r.kind}.closed`, target: r.service, detail: { request: id, outcome: 'failed', result: reason }, source: 'system', channel: r.channel }, at);
      }
    });
  }

  /** Withdraws a request nobody could see (its card failed to post), so it does not block the service until it expires. */
  async withdraw(id: number, reason: string): Promise<void> {
    const at = this.clock.now().toISOString();
    await this.store.transaction(async () => {
      if (await this.rows.transitionRequest(id, 'requested', 'cancelled', at, { decided_by: 'golive', result: reason })) {
        const r = (await this.rows.request(id))!;
        await this.audit.record({ actor: 'golive', action: `${r.kind}.cancel`, target: r.service, detail: { request: id, reason }, source: 'system', channel: r.channel }, at);
      }
    });
  }

  /** Expires every open request whose time is up; returns them so their cards can be updated. */
  async expireDue(): Promise<ChangeRequestRow[]> {
    const now = this.clock.now().toISOString();
    const expired: ChangeRequestRow[] = [];
    for (const r of await this.rows.dueExpiries(now)) {
      const e = await this.expireIfDue(r);
      if (e.state === 'expired' && r.state === 'requested') expired.push(e);
    }
    return expired;
  }

  /** Requests left `executing` (the process died mid-way), for recovery on start. */
  async executing(): Promise<ChangeRequestRow[]> {
    return this.rows.requestsInState('executing');
  }

  /** Takes over an executing request whose runner is no live replica (see ApprovalRepository.takeOverExecution); false if a live one runs it. */
  async takeOverExecution(id: number, deadBefore: string): Promise<boolean> {
    if (!this.replica) return true;
    return this.rows.takeOverExecution(id, this.replica, deadBefore);
  }

  /** Requests still waiting or running for a service. */
  async active(service: string): Promise<ChangeRequestRow[]> {
    return (await this.rows.requestsInStates(ACTIVE)).filter((r) => r.service === service);
  }

  approverNames(service: Service): string {
    return service.rollback_approvers.map((r) => this.runbook.roles[r]?.name ?? r).join(' or ');
  }

  private async expireIfDue(request: ChangeRequestRow): Promise<ChangeRequestRow> {
    const now = this.clock.now().toISOString();
    if (request.state !== 'requested' || request.expires_at > now) return request;
    await this.store.transaction(async () => {
      if (await this.rows.transitionRequest(request.id, 'requested', 'expired', now)) {
        await this.audit.record({ actor: 'golive', action: `${request.kind}.expire`, target: request.service, detail: { request: request.id }, source: 'system', channel: request.channel }, now);
      }
    });
    return (await this.rows.request(request.id))!;
  }

  private async decide(id: number, to: 'rejected' | 'cancelled', userId: string, source: AuditSource, channel: string | null, action: string): Promise<DecideOutcome> {
    const at = this.clock.now().toISOString();
    return this.store.transaction(async (): Promise<DecideOutcome> => {
      if (!await this.rows.transitionRequest(id, 'requested', to, at, { decided_by: userId })) return { kind: 'decided', request: (await this.rows.request(id))! };
      const r = (await this.rows.request(id))!;
      await this.audit.record({ actor: userId, action, target: r.service, detail: { request: id }, source, channel }, at);
      return { kind: 'done', request: r };
    });
  }
}

function describeKind(kind: ChangeRequestRow['kind']): string {
  return kind === 'rollback' ? 'rollback' : 'deploy override';
}
