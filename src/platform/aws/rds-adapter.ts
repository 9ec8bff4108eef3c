import { DescribeDBInstancesCommand, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { awsClientConfig, perRegion, sendAws, type AwsClientOptions } from './aws-client.js';
import type { AwsCall } from './classify-aws-error.js';
import { AwsCallError } from './ecs-port.js';
import type { DbSnapshot, RdsPort } from './rds-port.js';

/** How the RDS adapter builds its clients. */
export interface RdsAdapterOptions extends AwsClientOptions {
  clientFor?: (region: string) => RDSClient;
}

/** The RdsPort backed by @aws-sdk/client-rds. */
export function createRdsAdapter(options: RdsAdapterOptions = {}): RdsPort {
  const clientFor = perRegion((region) => options.clientFor?.(region) ?? new RDSClient(awsClientConfig(region, options)));
  return {
    async describeInstance(region, id) {
      const call: AwsCall = {
        api: 'RDS',
        iamPrefix: 'rds',
        operation: 'DescribeDBInstances',
        region,
        subject: `DB instance "${id}"`,
        notFound: () => `RDS has no DB instance "${id}" in ${region}.`,
      };
      const out = await sendAws(call, () => clientFor(region).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id })));
      const db = out.DBInstances?.find((d) => d.DBInstanceIdentifier === id) ?? out.DBInstances?.[0];
      if (!db) throw new AwsCallError(call.operation, 'not_found', `RDS has no DB instance "${id}" in ${region}.`);
      return {
        id,
        status: db.DBInstanceStatus ?? 'unknown',
        ...(db.Engine ? { engine: db.Engine } : {}),
        ...(db.EngineVersion ? { engineVersion: db.EngineVersion } : {}),
        ...(db.DBInstanceClass ? { instanceClass: db.DBInstanceClass } : {}),
        ...(db.BackupRetentionPeriod !== undefined ? { backupRetentionDays: db.BackupRetentionPeriod } : {}),
      };
    },
    async latestSnapshot(region, instanceId, kind) {
      const call: AwsCall = { api: 'RDS', iamPrefix: 'rds', operation: 'DescribeDBSnapshots', region, subject: `snapshots of DB instance "${instanceId}"` };
      let newest: DbSnapshot | undefined;
      let marker: string | undefined;
      do {
        const token = marker;
        const page = await sendAws(call, () =>
          clientFor(region).send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: instanceId, ...(kind === 'any' ? {} : { SnapshotType: kind }), MaxRecords: 100, Marker: token })),
        );
        for (const s of page.DBSnapshots ?? []) {
          // A snapshot still being taken cannot be restored from yet.
          if (s.Status !== 'available' || !s.SnapshotCreateTime || !s.DBSnapshotIdentifier) continue;
          const at = s.SnapshotCreateTime.toISOString();
          if (!newest || at > newest.createdAt) newest = { id: s.DBSnapshotIdentifier, type: s.SnapshotType ?? kind, createdAt: at, status: s.Status };
        }
        marker = page.Marker;
      } while (marker);
      return newest;
    },
  };
}
