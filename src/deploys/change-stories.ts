import type { Store } from '../platform/store/store.js';
import { ApprovalRepository } from './approval-repository.js';
import { DeployRepository, type DeployRow } from './deploy-repository.js';

/** A deploy or rollback as ECS ran it, with who asked and who approved: what the history line and the launch report tell. */
export interface ChangeStory {
  id: number;
  kind: 'deploy' | 'rollback';
  service: string;
  /** Task definitions as golive recorded them (ARNs). */
  from: string | null;
  to: string;
  image: string | null;
  requestedBy: string;
  approvedBy: string[];
  startedAt: string;
  finishedAt: string | null;
  outcome: 'running' | 'succeeded' | 'failed';
  reason: string | null;
}

/** Reads deploys and rollbacks together with their approvals, for the readers outside this module. */
export class ChangeStories {
  private readonly deploys: DeployRepository;
  private readonly approvals: ApprovalRepository;

  constructor(store: Store) {
    this.deploys = new DeployRepository(store);
    this.approvals = new ApprovalRepository(store);
  }

  async one(id: number): Promise<ChangeStory | undefined> {
    const row = await this.deploys.deploy(id);
    return row && (await this.story(row));
  }

  /** Every deploy and rollback, oldest first. */
  async all(): Promise<ChangeStory[]> {
    const out: ChangeStory[] = [];
    for (const row of await this.deploys.allDeploys()) out.push(await this.story(row));
    return out;
  }

  /** The deploys and rollbacks started from `from` until `until` (ISO times), oldest first. */
  async between(from: string, until: string): Promise<ChangeStory[]> {
    return (await this.all()).filter((c) => c.startedAt >= from && c.startedAt <= until);
  }

  private async story(d: DeployRow): Promise<ChangeStory> {
    const approvedBy = d.request_id !== null ? (await this.approvals.approvals(d.request_id)).map((a) => a.user_id) : [];
    return { id: d.id, kind: d.kind, service: d.service, from: d.from_task_def, to: d.to_task_def, image: d.image, requestedBy: d.requested_by, approvedBy, startedAt: d.started_at, finishedAt: d.finished_at, outcome: d.outcome, reason: d.reason };
  }
}
