import { afterEach, describe, expect, it } from 'vitest';
import { GoliveError } from '../../src/platform/errors.js';
import { parseRunbook } from '../../src/platform/runbook/load-runbook.js';
import { ApprovalService } from '../../src/deploys/approval-service.js';
import { RoleDirectory } from '../../src/platform/roles/resolve-roles.js';
import type { SlackPort } from '../../src/platform/slack/slack-port.js';
import { ApprovalRepository } from '../../src/deploys/approval-repository.js';
import { clockAt } from '../support/clock.js';
import { closeTestStores, openTestStore } from '../support/test-store.js';

afterEach(closeTestStores);

const parsed = parseRunbook(
  `version: 1
launch: { name: A, channel: C0OPS }
roles:
  ops: { name: Ops, users: [U0A, U0B, U0C] }
  cto: { name: CTO, users: [U0CTO] }
gates:
  - { id: g, title: G, items: [{ id: a, title: A, level: info, owner: ops }] }
services:
  - { name: api, cluster: c, service: s, region: ap-south-1, family: f, container: web, deployers: [ops], rollback_approvers: [cto, ops], approvals_required: 2, approval_expires_minutes: 10 }
`,
  'a.yml',
);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const runbook = parsed.runbook;

async function setup() {
  const store = await openTestStore();
  const clock = clockAt('2026-12-01T00:00:00Z');
  const approvals = new ApprovalService(runbook, store, new RoleDirectory(runbook, {} as SlackPort, clock), clock);
  const request = await approvals.create({ kind: 'rollback', service: runbook.services[0]!, params: { from: 'f:3', to: 'f:2' }, requester: 'U0A', channel: 'C0OPS', source: 'command' });
  return { store, clock, approvals, request };
}

describe('ApprovalService', () => {
  it('creates a request that expires after the service window', async () => {
    const { request } = await setup();
    expect(request).toMatchObject({ state: 'requested', requested_by: 'U0A', approvals_required: 2, expires_at: '2026-12-01T00:10:00.000Z' });
  });

  it('counts distinct approvers and approves at the threshold, once', async () => {
    const { approvals, request } = await setup();
    expect((await approvals.approve(request.id, 'U0B', 'button', null)).kind).toBe('recorded');
    expect((await approvals.approve(request.id, 'U0B', 'button', null)).kind).toBe('duplicate');
    const second = await approvals.approve(request.id, 'U0CTO', 'button', null);
    expect(second).toMatchObject({ kind: 'approved', request: { state: 'approved', decided_by: 'U0CTO' } });
    expect((await approvals.approve(request.id, 'U0C', 'button', null)).kind).toBe('decided');
    expect(await approvals.beginExecution(request.id)).toBe(true);
    expect(await approvals.beginExecution(request.id)).toBe(false);
    expect((await approvals.finish(request.id, true, 'ok')).state).toBe('succeeded');
    expect((await approvals.finish(request.id, false, 'late')).state).toBe('succeeded');
  });

  it('refuses self-approval and outsiders with coded errors', async () => {
    const { approvals, request } = await setup();
    await expect(approvals.approve(request.id, 'U0A', 'button', null)).rejects.toMatchObject({ code: 'not_permitted' });
    await expect(approvals.approve(request.id, 'U0NOBODY', 'button', null)).rejects.toBeInstanceOf(GoliveError);
    await expect(approvals.reject(request.id, 'U0NOBODY', 'button', null)).rejects.toMatchObject({ code: 'not_permitted' });
    await expect(approvals.cancel(request.id, 'U0B', 'button', null)).rejects.toThrow(GoliveError);
  });

  it('expires on time, whether swept or clicked', async () => {
    const a = await setup();
    a.clock.at += 9 * 60_000;
    expect(await a.approvals.expireDue()).toEqual([]);
    a.clock.at += 60_000;
    expect((await a.approvals.expireDue()).map((r) => r.state)).toEqual(['expired']);
    expect(await a.approvals.expireDue()).toEqual([]);
    const b = await setup();
    b.clock.at += 10 * 60_000;
    expect(await b.approvals.approve(b.request.id, 'U0CTO', 'button', null)).toMatchObject({ kind: 'decided', request: { state: 'expired' } });
    expect(await new ApprovalRepository(b.store).approvals(b.request.id)).toEqual([]);
  });

  it('lets only the requester cancel, and a cancelled request cannot be approved', async () => {
    const { approvals, request } = await setup();
    expect(await approvals.cancel(request.id, 'U0A', 'button', null)).toMatchObject({ kind: 'done', request: { state: 'cancelled', decided_by: 'U0A' } });
    expect((await approvals.approve(request.id, 'U0CTO', 'button', null)).kind).toBe('decided');
  });
});
