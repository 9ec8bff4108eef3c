import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatProblem, loadRunbookFile } from '../../../src/platform/runbook/load-runbook.js';
import type { Runbook } from '../../../src/platform/runbook/schema.js';

const runbooksDir = fileURLToPath(new URL('../../../runbooks/', import.meta.url));
const exampleFiles = readdirSync(runbooksDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();

function load(name: string): Runbook {
  const result = loadRunbookFile(join(runbooksDir, name));
  if (!result.ok) throw new Error(`${name} is not valid:\n${result.problems.map(formatProblem).join('\n')}`);
  return result.runbook;
}

describe('example runbooks', () => {
  it('ships the examples', () => {
    expect(exampleFiles).toEqual(expect.arrayContaining(['drop.yml', 'fivestar.yml', 'govisax.yml', 'minimal.yml', 'realserv.yml']));
  });

  it.each(exampleFiles)('%s is valid', (name) => {
    const result = loadRunbookFile(join(runbooksDir, name));
    expect(result.problems.map(formatProblem)).toEqual([]);
    expect(result.ok).toBe(true);
  });
});

describe('minimal.yml', () => {
  it('is one anyone-role, one gate, two items', () => {
    const rb = load('minimal.yml');
    const roles = Object.values(rb.roles);
    expect(roles).toHaveLength(1);
    expect(roles[0]?.anyone).toBe(true);
    expect(rb.gates).toHaveLength(1);
    expect(rb.gates[0]?.items).toHaveLength(2);
  });
});

describe('govisax.yml', () => {
  const rb = load('govisax.yml');
  const gate = (id: string) => {
    const g = rb.gates.find((x) => x.id === id);
    if (!g) throw new Error(`no gate ${id}`);
    return g;
  };

  it('describes the launch', () => {
    expect(rb.launch.timezone).toBe('Asia/Kolkata');
    expect(rb.launch.channel).toMatch(/^C[A-Z0-9]+$/);
    const t0 = rb.launch.t0;
    expect(t0).toBeDefined();
    const d = new Date(t0 ?? '');
    // Tuesday 08:00 IST (= 02:30 UTC).
    expect(d.getUTCDay()).toBe(2);
    expect([d.getUTCHours(), d.getUTCMinutes()]).toEqual([2, 30]);
  });

  it('defines the owner roles, with any-engineer open to anyone', () => {
    expect(Object.keys(rb.roles)).toEqual(
      expect.arrayContaining(['bd-lead', 'devops', 'devops-oncall', 'backend-lead', 'qa-lead', 'mobile-lead', 'product-lead', 'cto', 'legal', 'any-engineer']),
    );
    expect(rb.roles['bd-lead']?.name).toBe('BD Lead');
    expect(rb.roles['devops']?.name).toBe('DevOps');
    expect(rb.roles['any-engineer']?.anyone).toBe(true);
  });

  it('has the ten pre-flight items with the seed levels and owners', () => {
    const items = gate('pre-flight').items.map((i) => [i.id, i.level, i.owner]);
    expect(items).toEqual([
      ['v2f-agreement', 'blocker', 'bd-lead'],
      ['secrets-manager-v2f', 'blocker', 'devops'],
      ['acm-wildcard-cert', 'warning', 'devops'],
      ['route53-hosted-zone', 'warning', 'devops'],
      ['razorpay-prod-keys', 'warning', 'backend-lead'],
      ['ses-production-access', 'warning', 'devops'],
      ['pagerduty-integration-key', 'info', 'devops'],
      ['s3-bucket-names', 'info', 'devops'],
      ['mobile-canonical-file', 'info', 'mobile-lead'],
      ['github-cicd-secrets', 'info', 'devops'],
    ]);
    expect(gate('pre-flight').signoff.length).toBeGreaterThan(0);
  });

  it('has the soft-launch checklist with owners from Step 9', () => {
    const owners = Object.fromEntries(gate('soft-launch').items.map((i) => [i.id, i.owner]));
    expect(owners).toMatchObject({
      'beta-access-enabled': 'backend-lead',
      'e2e-test-transaction': 'qa-lead',
      'sub-agent-portal-test': 'qa-lead',
      'mobile-app-test': 'mobile-lead',
      'partner-api-test': 'backend-lead',
      'cloudwatch-watch-48h': 'devops',
      'app-store-submissions': 'mobile-lead',
    });
    expect(gate('soft-launch').signoff.length).toBeGreaterThan(0);
  });

  it('has the ten steps with rollbacks for CDK and ECS', () => {
    expect(rb.steps).toHaveLength(10);
    expect(rb.steps.find((s) => s.id === 'deploy-infrastructure')?.rollback).toContain('cdk destroy GoVisaX-Prod');
    expect(rb.steps.find((s) => s.id === 'deploy-application')?.rollback).toContain('govisax-prod:PREVIOUS_REVISION');
  });

  it('deploys the api service to ECS with a smoke check', () => {
    expect(rb.services).toHaveLength(1);
    expect(rb.services[0]).toMatchObject({
      name: 'api',
      cluster: 'GoVisaX-Prod-Cluster',
      service: 'GoVisaX-Prod-Service',
      region: 'ap-south-1',
      family: 'govisax-prod',
      deploy_requires: ['pre-flight'],
      smoke_check: { url: 'https://api.govisax.com/partner/v1/utils/status', expect_status: 200, expect_text: '"status":"operational"' },
    });
    expect(rb.services[0]?.container).toBeTruthy();
    expect(rb.services[0]?.rollback_approvers).toEqual(expect.arrayContaining(['cto', 'devops']));
  });

  it('watches the seven alarms; four page on-call', () => {
    expect(rb.alarms?.prefixes).toEqual(['GoVisaX-Prod']);
    expect(rb.alarms?.region).toBe('ap-south-1');
    const rules = Object.fromEntries((rb.alarms?.rules ?? []).map((r) => [r.match, r]));
    expect(Object.keys(rules).sort()).toEqual(
      [
        'GoVisaX-Prod-API-5XX-Rate',
        'GoVisaX-Prod-ECS-TaskStopped',
        'GoVisaX-Prod-V2F-Circuit-Open',
        'GoVisaX-Prod-RDS-CPU',
        'GoVisaX-Prod-API-Latency-P95',
        'GoVisaX-Prod-Redis-Memory',
        'GoVisaX-Prod-HealthCheck',
      ].sort(),
    );
    const paging = Object.values(rules).filter((r) => r.page).map((r) => r.match).sort();
    expect(paging).toEqual(['GoVisaX-Prod-API-5XX-Rate', 'GoVisaX-Prod-ECS-TaskStopped', 'GoVisaX-Prod-HealthCheck', 'GoVisaX-Prod-V2F-Circuit-Open']);
    for (const name of ['GoVisaX-Prod-RDS-CPU', 'GoVisaX-Prod-API-Latency-P95', 'GoVisaX-Prod-Redis-Memory']) {
      expect(rules[name]?.severity).toBe('warning');
    }
    expect(rb.pagerduty?.source).toBeTruthy();
  });

  it('defines P1–P4 from Appendix A', () => {
    const s = rb.incidents?.severities;
    expect(s?.P1).toMatchObject({ response_minutes: 0, rollback_prompt_minutes: 15, update_every_minutes: 30, page: true, owner: 'devops-oncall' });
    expect(s?.P1?.escalate_to).toEqual(expect.arrayContaining(['cto', 'bd-lead', 'legal']));
    expect(s?.P2).toMatchObject({ response_minutes: 30, page: true, owner: 'backend-lead' });
    expect(s?.P3).toMatchObject({ response_minutes: 240, page: false, owner: 'backend-lead' });
    expect(s?.P4).toMatchObject({ response_minutes: 1440, page: false, owner: 'any-engineer' });
    const t = rb.incidents?.templates;
    expect(t?.initial).toContain('{summary}');
    expect(t?.update).toContain('{n}');
    expect(t?.resolved).toContain('{root_cause}');
  });

  it('decides go/no-go on the seed criteria', () => {
    const g = rb.gonogo;
    expect(g?.voters).toContain('cto');
    const types = g?.criteria.map((c) => c.type);
    expect(types).toEqual(['blockers_done', 'gates_signed', 'no_firing_alarms', 'metric', 'metric', 'no_incidents']);
    const signed = g?.criteria.find((c) => c.type === 'gates_signed');
    expect(signed).toMatchObject({ gates: ['pre-flight', 'soft-launch'] });
    const metrics = g?.criteria.filter((c) => c.type === 'metric') ?? [];
    expect(metrics[0]).toMatchObject({ namespace: 'AWS/ApplicationELB', metric: 'TargetResponseTime', stat: 'p95', window: '48h', op: '<', threshold: 0.8 });
    expect(metrics[1]).toMatchObject({ window: '48h', op: '<', threshold: 0.5 });
    expect(g?.criteria.find((c) => c.type === 'no_incidents')).toMatchObject({ severity: 'P1', since: 'T+90m' });
  });

  it('has the nine Appendix B milestones', () => {
    expect(rb.milestones.map((m) => m.at)).toEqual(['T-72h', 'T-24h', 'T-0', 'T+30m', 'T+45m', 'T+60m', 'T+90m', 'T+48h', 'T+50h']);
  });
});

describe('realserv.yml', () => {
  const rb = load('realserv.yml');

  it('has a sign-off role on every gate', () => {
    for (const g of rb.gates) expect(g.signoff.length, g.id).toBeGreaterThan(0);
  });

  it('makes the final sign-off roles the go/no-go voters, all required', () => {
    expect(rb.gonogo?.voters).toEqual(['tech-lead', 'devops-lead', 'qa-lead', 'product-manager', 'cto']);
    expect(rb.gonogo?.votes_required).toBe(5);
    expect(rb.gonogo?.criteria.map((c) => c.type)).toContain('blockers_done');
  });

  it('marks the critical (🔴) items as blockers', () => {
    const items = new Map(rb.gates.flatMap((g) => g.items.map((i) => [i.id, i] as const)));
    expect(items.get('firebase-auth-prod')?.level).toBe('blocker');
    expect(items.get('secret-razorpay-keys')?.level).toBe('blocker');
    expect(items.get('e2e-order-flow')?.level).toBe('blocker');
    expect(items.get('admin-mfa')?.level).toBe('warning');
    expect(items.get('service-readmes')?.level).toBe('info');
  });
});

describe('govisax.yml evidence checks', () => {
  const rb = load('govisax.yml');

  it('verifies the six pre-flight items AWS can answer', () => {
    const verified = rb.gates.find((g) => g.id === 'pre-flight')!.items.filter((i) => i.verify).map((i) => [i.id, i.verify!.type]);
    expect(verified).toEqual([
      ['secrets-manager-v2f', 'secret'],
      ['acm-wildcard-cert', 'acm_certificate'],
      ['route53-hosted-zone', 'route53_zone'],
      ['razorpay-prod-keys', 'secret'],
      ['ses-production-access', 'ses_production'],
      ['pagerduty-integration-key', 'secret'],
    ]);
    expect(rb.gates[0]!.items.find((i) => i.id === 'acm-wildcard-cert')?.verify).toEqual({ type: 'acm_certificate', domain: '*.govisax.com', regions: ['us-east-1', 'ap-south-1'], min_days_valid: 30 });
    expect(rb.verification.schedule).toBe('*/5 * * * *');
  });
});

describe('drop.yml', () => {
  const rb = load('drop.yml');
  const text = readFileSync(join(runbooksDir, 'drop.yml'), 'utf8');
  const gate = (id: string) => rb.gates.find((g) => g.id === id)!;
  const T7D = ['infrastructure', 'application', 'external-services', 'domain-ssl', 'monitoring'];

  it('says golive does not deploy App Runner, and has no services', () => {
    expect(text).toContain('golive does NOT deploy App Runner');
    expect(rb.services).toEqual([]);
    expect(gate('infrastructure').items.find((i) => i.id === 'apprunner-running')?.verify).toBeUndefined();
  });

  it('has the T-7d checklist as five gates of 26 items, 9 of them verified by golive', () => {
    const items = T7D.flatMap((g) => gate(g).items);
    expect(items).toHaveLength(26);
    expect(items.filter((i) => i.verify).map((i) => [i.id, i.verify!.type])).toEqual([
      ['rds-available', 'rds_instance'],
      ['ecr-production-image', 'ecr_image'],
      ['secrets-configured', 'secret'],
      ['health-check', 'http_json'],
      ['dns-a-record', 'route53_zone'],
      ['ssl-certificate', 'tls'],
      ['https-redirect', 'http_header'],
      ['hsts-header', 'http_header'],
      ['status-page-live', 'http'],
    ]);
    expect(items.find((i) => i.id === 'secrets-configured')?.verify).toMatchObject({ names: ['JWT_SECRET', 'DATABASE_URL', 'BANKID_CLIENT_ID', 'BANKID_CLIENT_SECRET', 'SUMSUB_APP_TOKEN', 'SUMSUB_SECRET_KEY', 'SLACK_WEBHOOK_URL'] });
    expect(items.find((i) => i.id === 'hsts-header')?.verify).toMatchObject({ header: 'Strict-Transport-Security', equals: 'max-age=63072000; includeSubDomains; preload' });
  });

  it('checks the go-live day backups: the latest automated one within 24 h and a pre-launch manual snapshot', () => {
    expect(gate('go-live-day').items.find((i) => i.id === 't2h-latest-backup')?.verify).toMatchObject({ snapshot: { type: 'automated', max_age_hours: 24 } });
    expect(gate('go-live-day').items.find((i) => i.id === 't2h-manual-snapshot')?.verify).toMatchObject({ snapshot: { type: 'manual' } });
  });

  it('has the five go-live phases as steps, with the rollback procedure, and the post-launch schedule', () => {
    expect(rb.steps.map((s) => s.id)).toEqual(['final-verification', 'bankid-callback', 'soft-launch', 'close-maintenance', 'public-launch']);
    expect(rb.steps.find((s) => s.id === 'soft-launch')?.rollback).toContain('aws apprunner start-deployment');
    expect(rb.steps.find((s) => s.id === 'soft-launch')?.rollback).toContain('Going back to previous version');
    expect(rb.milestones.map((m) => m.at)).toEqual(['T-7d', 'T-2h', 'T-1h', 'T-0', 'T+30m', 'T+1h', 'T+2h', 'T+4h', 'T+8h', 'T+24h', 'T+7d']);
  });

  it('lists the eight feature flags as info items', () => {
    expect(gate('feature-flags').items.map((i) => i.level)).toEqual(Array(8).fill('info'));
    expect(gate('feature-flags').items[2]?.title).toBe('NEXT_PUBLIC_FF_VIRTUAL_CARDS = false (not launched — requires card partner)');
  });
});

describe('fivestar.yml', () => {
  const rb = load('fivestar.yml');

  it('has seed 004 severities with their response times, 30-minute updates and a 48-hour post-mortem', () => {
    const s = rb.incidents!.severities;
    expect([s.P1, s.P2, s.P3, s.P4].map((d) => d?.response_minutes)).toEqual([15, 60, 240, 1440]);
    expect(s.P1?.update_every_minutes).toBe(30);
    expect(rb.incidents?.postmortem_hours).toBe(48);
  });

  it('escalates Email → Slack with @channel → PagerDuty → executives by elapsed minutes', () => {
    const levels = rb.incidents!.severities.P1!.escalation;
    expect(levels.map((l) => [l.after_minutes, l.if])).toEqual([
      [0, 'not_acknowledged'],
      [5, 'not_acknowledged'],
      [15, 'not_resolved'],
      [30, 'not_resolved'],
    ]);
    expect(levels[0]?.email).toEqual(['devops-team@1cloudhub.com', 'app-team@1cloudhub.com']);
    expect(levels[1]).toMatchObject({ channel: 'ops', at_channel: true, mention: ['devops-oncall'] });
    expect(levels[2]?.page).toBe(true);
    expect(levels[3]?.dm).toEqual(['cto', 'vp-engineering']);
    const rule = (m: string) => rb.alarms!.rules.find((r) => r.match === m)!;
    expect(rule('Fivestar-High-Error-Rate').escalation).toHaveLength(4);
    expect(rule('Fivestar-Low-Payment-Success-Rate').escalation.map((l) => l.after_minutes)).toEqual([0, 5, 15]);
    expect([rule('Fivestar-System-Down').page, rule('Fivestar-Database-Unavailable').page]).toEqual([true, true]);
    expect(rule('Fivestar-Security-Breach').escalation[0]).toMatchObject({ after_minutes: 0, dm: ['cto', 'vp-engineering', 'security'] });
    expect(rb.email?.region).toBe('ap-south-1');
  });

  it('uses the three notification templates of section 11.3', () => {
    const t = rb.incidents!.templates;
    expect(t.initial).toContain('[INCIDENT] Fivestar Payments - {{severity}} - {{summary}}');
    expect(t.update).toContain('Update #{{n}} - {{time}}');
    expect(t.resolved).toContain('A detailed post-mortem will be conducted and shared within {{postmortem_hours}} hours.');
  });

  it('checks the diagnostics of 13.2.1 itself', () => {
    expect(rb.gates.find((g) => g.id === 'system-health')!.items.map((i) => i.verify?.type)).toEqual(['ecs_service', 'rds_instance', 'alarms_ok']);
  });
});
