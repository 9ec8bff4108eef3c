/** An RDS DB instance, reduced to what evidence checks need. */
export interface DbInstance {
  id: string;
  /** `available`, `backing-up`, `stopped`, `modifying`, … */
  status: string;
  engine?: string;
  engineVersion?: string;
  instanceClass?: string;
  backupRetentionDays?: number;
}

/** One DB snapshot. */
export interface DbSnapshot {
  id: string;
  /** `automated` or `manual`. */
  type: string;
  createdAt: string;
  status: string;
}

/** Which snapshots to consider. */
export type SnapshotKind = 'automated' | 'manual' | 'any';

/** The RDS reads evidence checks need. */
export interface RdsPort {
  /** The instance; an AwsCallError of kind not_found when it does not exist. */
  describeInstance(region: string, id: string): Promise<DbInstance>;
  /** The newest available snapshot of the instance of that kind, if any. */
  latestSnapshot(region: string, instanceId: string, kind: SnapshotKind): Promise<DbSnapshot | undefined>;
}
