import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A local stand-in for the service's status endpoint; `healthy` decides what it answers. */
export interface SmokeServer {
  url: string;
  healthy: boolean;
  close(): Promise<void>;
}

export async function startSmokeServer(): Promise<SmokeServer> {
  const state = { healthy: true };
  const server: Server = createServer((_req, res) => {
    if (state.healthy) res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"operational","version":"1.0.0"}');
    else res.writeHead(503).end('{"status":"degraded"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/partner/v1/utils/status`;
  return {
    url,
    get healthy() {
      return state.healthy;
    },
    set healthy(v: boolean) {
      state.healthy = v;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Writes a runbook with one ECS service (as seed 000 describes it) to a temp file. */
export function writeDeployRunbook(opts: {
  smokeUrl: string;
  approvalsRequired?: number;
  allowOverride?: boolean;
  deployRequires?: string[];
  /** Overrides the launch line, e.g. with a name and a `t0`. */
  launch?: string;
  /** Roles that sign the gate off. */
  signoff?: string[];
  rollbackApprovers?: string[];
  /** A `verify` check for the dns-ready item (a YAML flow mapping). */
  dnsReadyVerify?: string;
  /** More lines under the service (YAML, indented). */
  serviceExtra?: string;
  /** More top-level sections (YAML), appended. */
  extra?: string;
}): string {
  const yaml = `
version: 1
launch: ${opts.launch ?? '{ name: Deploy test, channel: C0OPS, timezone: Asia/Kolkata }'}
roles:
  devops: { name: DevOps, users: [U0DEVOPS], groups: [S0DEVOPS] }
  cto: { name: CTO, users: [U0CTO] }
  bd-lead: { name: BD Lead, users: [U0BDLEAD] }
gates:
  - id: pre-flight
    title: Pre-flight
    signoff: [${(opts.signoff ?? []).join(', ')}]
    items:
      - { id: v2f-agreement, title: V2F agreement signed, level: blocker, owner: bd-lead }
      - { id: dns-ready, title: DNS ready, level: warning, owner: devops${opts.dnsReadyVerify ? `, verify: ${opts.dnsReadyVerify}` : ''} }
services:
  - name: api
    cluster: GoVisaX-Prod-Cluster
    service: GoVisaX-Prod-Service
    region: ap-south-1
    family: govisax-prod
    container: govisax-api
    deployers: [devops]
    rollback_approvers: [${(opts.rollbackApprovers ?? ['cto', 'devops']).join(', ')}]
    approvals_required: ${opts.approvalsRequired ?? 1}
    deploy_requires: [${(opts.deployRequires ?? ['pre-flight']).join(', ')}]
    allow_override: ${opts.allowOverride ?? false}
    rollout_timeout_minutes: 1
    approval_expires_minutes: 30
    smoke_check: { url: "${opts.smokeUrl}", expect_status: 200, expect_text: '"status":"operational"', timeout_seconds: 2 }
${opts.serviceExtra ?? ''}
alarms:
  region: ap-south-1
  prefixes: [GoVisaX-Prod]
${opts.extra ?? ''}`;
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'golive-deploy-')), 'deploy.yml');
  writeFileSync(file, yaml);
  return file;
}
