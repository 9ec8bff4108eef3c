import { ListHostedZonesByNameCommand, ListResourceRecordSetsCommand, Route53Client, type RRType } from '@aws-sdk/client-route-53';
import { awsClientConfig, sendAws, type AwsClientOptions } from './aws-client.js';
import type { HostedZone, RecordSet, Route53Port } from './route53-port.js';

/** How the Route 53 adapter builds its client. */
export interface Route53AdapterOptions extends AwsClientOptions {
  client?: Route53Client;
}

/** Route 53 is global; its API lives in us-east-1. */
const ROUTE53_REGION = 'us-east-1';

/** Fully qualified, lower case, with the trailing dot: how Route 53 returns names. */
export function fqdn(name: string): string {
  const n = name.trim().toLowerCase();
  return n.endsWith('.') ? n : `${n}.`;
}

/** Route 53 returns `*` in names as the octal escape `\052`. */
function unescapeName(name: string): string {
  return name.replace(/\\(\d{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** The Route53Port backed by @aws-sdk/client-route-53. */
export function createRoute53Adapter(options: Route53AdapterOptions = {}): Route53Port {
  const client = options.client ?? new Route53Client(awsClientConfig(ROUTE53_REGION, options));
  return {
    async zonesNamed(name) {
      const want = fqdn(name);
      const call = { api: 'Route 53', iamPrefix: 'route53', operation: 'ListHostedZonesByName', region: 'global', subject: `hosted zone ${want}` };
      // Zones come in order starting at DNSName; the ones after it have other names, so one page is enough unless many zones share the name.
      const out: HostedZone[] = [];
      let dnsName: string | undefined = want;
      let zoneId: string | undefined;
      for (let page = 0; page < 10; page++) {
        const res = await sendAws(call, () => client.send(new ListHostedZonesByNameCommand({ DNSName: dnsName, HostedZoneId: zoneId, MaxItems: 100 })));
        let past = false;
        for (const z of res.HostedZones ?? []) {
          if (fqdn(unescapeName(z.Name ?? '')) !== want) {
            past = true;
            continue;
          }
          out.push({ id: (z.Id ?? '').replace(/^\/hostedzone\//, ''), name: want, private: z.Config?.PrivateZone === true, ...(z.ResourceRecordSetCount !== undefined ? { recordCount: z.ResourceRecordSetCount } : {}) });
        }
        if (past || !res.IsTruncated || !res.NextDNSName) break;
        dnsName = res.NextDNSName;
        zoneId = res.NextHostedZoneId;
      }
      return out;
    },
    async recordSet(zoneId, name, type) {
      const want = fqdn(name);
      const call = { api: 'Route 53', iamPrefix: 'route53', operation: 'ListResourceRecordSets', region: 'global', subject: `${type} record ${want} in zone ${zoneId}` };
      // Record sets are listed in order from StartRecordName/Type: the first one is it, or the name is not there.
      const res = await sendAws(call, () => client.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: want, StartRecordType: type as RRType, MaxItems: 1 })));
      const r = res.ResourceRecordSets?.[0];
      if (!r || fqdn(unescapeName(r.Name ?? '')) !== want || r.Type !== type) return undefined;
      const set: RecordSet = { name: want, type, values: (r.ResourceRecords ?? []).map((v) => v.Value ?? '').filter(Boolean) };
      if (r.AliasTarget?.DNSName) set.alias = r.AliasTarget.DNSName;
      return set;
    },
  };
}
