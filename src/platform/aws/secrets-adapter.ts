import { DescribeSecretCommand, ListSecretsCommand, SecretsManagerClient, type DescribeSecretResponse, type SecretListEntry } from '@aws-sdk/client-secrets-manager';
import { awsClientConfig, perRegion, sendAws, type AwsClientOptions } from './aws-client.js';
import type { AwsCall } from './classify-aws-error.js';
import { AwsCallError } from './ecs-port.js';
import type { SecretInfo, SecretsPort } from './secrets-port.js';

/** How the Secrets Manager adapter builds its clients. */
export interface SecretsAdapterOptions extends AwsClientOptions {
  /** Supplies the client for a region instead of building one (tests pass mocked clients). */
  clientFor?: (region: string) => SecretsManagerClient;
}

/** ListSecrets takes at most 10 values per filter. */
const NAMES_PER_CALL = 10;

/**
 * The SecretsPort backed by @aws-sdk/client-secrets-manager. Many secrets
 * cost one ListSecrets per 10 names (a `name` filter, which matches prefixes:
 * the exact names are picked out here). If the role may not ListSecrets, each
 * secret is described on its own (DescribeSecret, which can be scoped to the
 * secrets' ARNs). GetSecretValue is never called.
 */
export function createSecretsAdapter(options: SecretsAdapterOptions = {}): SecretsPort {
  const clientFor = perRegion((region) => options.clientFor?.(region) ?? new SecretsManagerClient(awsClientConfig(region, options)));
  return {
    async describeSecrets(region, names) {
      const client = clientFor(region);
      const wanted = [...new Set(names)];
      try {
        return await listSecrets(client, region, wanted);
      } catch (err) {
        if (!(err instanceof AwsCallError) || err.kind !== 'access_denied' || err.operation !== 'ListSecrets') throw err;
        return describeEach(client, region, wanted);
      }
    },
  };
}

async function listSecrets(client: SecretsManagerClient, region: string, names: string[]): Promise<Map<string, SecretInfo>> {
  const found = new Map<string, SecretInfo>();
  for (let i = 0; i < names.length; i += NAMES_PER_CALL) {
    const chunk = names.slice(i, i + NAMES_PER_CALL);
    const want = new Set(chunk);
    const call: AwsCall = { api: 'Secrets Manager', iamPrefix: 'secretsmanager', operation: 'ListSecrets', region, subject: chunk.length === 1 ? `secret "${chunk[0]}"` : `${chunk.length} secrets` };
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await sendAws(call, () => client.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: chunk }], IncludePlannedDeletion: true, MaxResults: 100, NextToken: token })));
      for (const s of page.SecretList ?? []) if (s.Name && want.has(s.Name)) found.set(s.Name, toInfo(s, s.SecretVersionsToStages));
      nextToken = page.NextToken;
    } while (nextToken);
  }
  return found;
}

async function describeEach(client: SecretsManagerClient, region: string, names: string[]): Promise<Map<string, SecretInfo>> {
  const found = new Map<string, SecretInfo>();
  for (const name of names) {
    const call: AwsCall = { api: 'Secrets Manager', iamPrefix: 'secretsmanager', operation: 'DescribeSecret', region, subject: `secret "${name}"` };
    try {
      const s = await sendAws(call, () => client.send(new DescribeSecretCommand({ SecretId: name })));
      found.set(name, toInfo(s, s.VersionIdsToStages));
    } catch (err) {
      if (err instanceof AwsCallError && err.kind === 'not_found') continue;
      throw err;
    }
  }
  return found;
}

// ListSecrets names the version map SecretVersionsToStages, DescribeSecret VersionIdsToStages: the same map.
function toInfo(s: SecretListEntry | DescribeSecretResponse, stages: Record<string, string[]> | undefined): SecretInfo {
  return {
    name: s.Name ?? '',
    ...(s.ARN ? { arn: s.ARN } : {}),
    ...(s.CreatedDate ? { createdAt: s.CreatedDate.toISOString() } : {}),
    ...(s.LastChangedDate ? { lastChangedAt: s.LastChangedDate.toISOString() } : {}),
    ...(s.LastRotatedDate ? { lastRotatedAt: s.LastRotatedDate.toISOString() } : {}),
    ...(s.DeletedDate ? { deletedAt: s.DeletedDate.toISOString() } : {}),
    hasCurrentValue: Object.values(stages ?? {}).some((labels) => labels.includes('AWSCURRENT')),
  };
}
