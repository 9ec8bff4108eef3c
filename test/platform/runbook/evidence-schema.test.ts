import { describe, expect, it } from 'vitest';
import { formatProblem, parseRunbook } from '../../../src/platform/runbook/load-runbook.js';

const HEAD = `version: 1
launch: { name: Schema, channel: C0OPS }
roles:
  devops: { name: DevOps, users: [U0DEVOPS] }
`;

function problems(body: string): string[] {
  const r = parseRunbook(`${HEAD}${body}`, 'rb.yml');
  return r.ok ? [] : r.problems.map(formatProblem);
}

function itemWith(verify: string, extra = ''): string {
  return `gates:
  - id: g
    title: G
    items:
      - id: it
        title: It
        level: blocker
        owner: devops${extra}
        verify: ${verify}
`;
}

describe('evidence checks in the runbook', () => {
  it('accepts every check type with its defaults', () => {
    const r = parseRunbook(
      `${HEAD}gates:
  - id: g
    title: G
    items:
      - { id: a, title: A, level: info, owner: devops, verify: { type: secret, region: ap-south-1, names: [visa2fly/prod/api-key] } }
      - { id: b, title: B, level: info, owner: devops, auto_signoff: true, verify: { type: acm_certificate, domain: "*.govisax.com", regions: [us-east-1, ap-south-1] } }
      - { id: c, title: C, level: info, owner: devops, verify: { type: route53_zone, zone: getdrop.no, record: { name: getdrop.no } } }
      - { id: d, title: D, level: info, owner: devops, verify: { type: rds_instance, instance: drop-db, region: eu-west-1, snapshot: { max_age_hours: 24 } } }
      - { id: e, title: E, level: info, owner: devops, verify: { type: ecr_image, repository: drop-web, tag: production, region: eu-west-1 } }
      - { id: f, title: F, level: info, owner: devops, verify: { type: ses_production, region: ap-south-1 } }
      - { id: h, title: H, level: info, owner: devops, verify: { type: ecs_service, service: pe, cluster: fivestar, region: ap-south-1 } }
      - { id: i, title: I, level: info, owner: devops, verify: { type: http_json, url: "https://getdrop.no/api/health", expect_json: { data.status: ok } } }
      - { id: j, title: J, level: info, owner: devops, verify: { type: http_header, url: "https://getdrop.no/", header: Strict-Transport-Security, contains: max-age=63072000 } }
      - { id: k, title: K, level: info, owner: devops, verify: { type: tls, host: getdrop.no, names: [getdrop.no, www.getdrop.no] } }
`,
      'rb.yml',
    );
    expect(r.problems.map(formatProblem)).toEqual([]);
    if (!r.ok) return;
    const v = Object.fromEntries(r.runbook.gates[0]!.items.map((i) => [i.id, i.verify]));
    expect(v.b).toMatchObject({ min_days_valid: 30 });
    expect(v.c).toMatchObject({ private: false, record: { name: 'getdrop.no', type: 'A' } });
    expect(v.d).toMatchObject({ snapshot: { type: 'automated', max_age_hours: 24 } });
    expect(v.i).toMatchObject({ expect_status: 200, timeout_seconds: 10 });
    expect(v.k).toMatchObject({ port: 443, min_days_valid: 14 });
    expect(r.runbook.verification).toEqual({ schedule: '*/5 * * * *' });
  });

  it('names each mistake with its line', () => {
    expect(problems(itemWith('{ type: secret, region: ap-south-1, names: [] }'))).toEqual(['rb.yml:13: gates[0].items[0].verify.names: name at least one secret']);
    expect(problems(itemWith('{ type: acm_certificate, domain: "not a domain", regions: [us-east-1] }'))).toEqual(['rb.yml:13: gates[0].items[0].verify.domain: must be a DNS name such as "govisax.com" or "*.govisax.com"']);
    expect(problems(itemWith('{ type: http_header, url: "https://x.example/", header: HSTS, equals: a, contains: b }'))).toEqual(['rb.yml:13: gates[0].items[0].verify: give exactly one of equals or contains']);
    expect(problems(itemWith('{ type: ecs_service, service: api, cluster: prod }'))).toEqual([
      'rb.yml:13: gates[0].items[0].verify: give cluster and region together (an ECS service outside the runbook), or neither (service names a runbook service)',
    ]);
    expect(problems(itemWith('{ type: ecs_service, service: api }'))).toEqual(['rb.yml:13: gates[0].items[0].verify.service: unknown service "api" (services: none); or give cluster and region for a service outside the runbook']);
    expect(problems(itemWith('{ type: s3_bucket, bucket: b }'))).toHaveLength(1);
  });

  it('refuses auto_signoff without a check', () => {
    expect(
      problems(`gates:
  - id: g
    title: G
    items:
      - { id: it, title: It, level: blocker, owner: devops, auto_signoff: true }
`),
    ).toEqual(['rb.yml:9: gates[0].items[0].auto_signoff: auto_signoff needs a verify check to sign the item off on']);
  });

  it('takes a verification schedule or "off"', () => {
    const gate = 'gates: [{ id: g, title: G, items: [{ id: it, title: It, level: info, owner: devops }] }]\n';
    expect(problems(`${gate}verification: { schedule: off }\n`)).toEqual([]);
    expect(problems(`${gate}verification: { schedule: "*/10 * * * *" }\n`)).toEqual([]);
    expect(problems(`${gate}verification: { schedule: sometimes }\n`)).toHaveLength(1);
  });
});

describe('escalation levels in the runbook', () => {
  const gate = 'gates: [{ id: g, title: G, items: [{ id: it, title: It, level: info, owner: devops }] }]\n';
  const incidents = (levels: string, email = '') => `${gate}${email}incidents:
  severities:
    P1:
      name: P1 — Critical
      response_minutes: 15
      escalation:
${levels}`;

  it("accepts seed 004's matrix", () => {
    const r = parseRunbook(
      `${HEAD}${incidents(
        `        - { after_minutes: 0, email: [devops-team@1cloudhub.example] }
        - { after_minutes: 5, channel: ops, at_channel: true, mention: [devops] }
        - { after_minutes: 15, if: not_resolved, page: true }
        - { after_minutes: 30, if: not_resolved, dm: [devops], email: [cto@fivestar.example] }
`,
        'email: { from: golive@fivestar.example, region: ap-south-1 }\n',
      )}`,
      'rb.yml',
    );
    expect(r.problems.map(formatProblem)).toEqual([]);
    if (!r.ok) return;
    expect(r.runbook.incidents?.severities.P1?.escalation.map((l) => l.if)).toEqual(['not_acknowledged', 'not_acknowledged', 'not_resolved', 'not_resolved']);
  });

  it('names each mistake', () => {
    expect(problems(incidents('        - { after_minutes: 0, email: [devops-team@1cloudhub.example] }\n'))).toEqual([
      'rb.yml:12: incidents.severities.P1.escalation[0].email: sending email needs the top-level email section (from, region)',
    ]);
    expect(problems(incidents('        - { after_minutes: 5, mention: [devops] }\n'))).toEqual(['rb.yml:12: incidents.severities.P1.escalation[0]: mention and at_channel need a channel to post in (channel: ops or incident)']);
    expect(problems(incidents('        - { after_minutes: 5 }\n'))).toEqual(['rb.yml:12: incidents.severities.P1.escalation[0]: a level needs at least one of email, channel, page or dm']);
    expect(problems(incidents('        - { after_minutes: 15, page: true }\n        - { after_minutes: 5, page: true }\n'))).toEqual(['rb.yml:12: incidents.severities.P1.escalation: list the levels in order of after_minutes']);
    expect(problems(incidents('        - { after_minutes: 5, dm: [cto] }\n'))).toEqual(['rb.yml:12: incidents.severities.P1.escalation[0].dm[0]: unknown role "cto" (roles: devops)']);
    expect(
      problems(`${gate}alarms:
  prefixes: [Fivestar]
  rules:
    - { match: Fivestar-X, severity: critical, escalation: [{ after_minutes: 5, channel: incident }] }
`),
    ).toEqual(['rb.yml:9: alarms.rules[0].escalation[0].channel: an alarm has no incident channel: use channel: ops']);
  });
});
