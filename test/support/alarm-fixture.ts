import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from './start-app.js';

export const SNS_FIXTURES = path.join(PROJECT_ROOT, 'test/fixtures/aws/sns-signed');

/** The real signed SNS notifications and the topics they came from. */
export function signedSnsMessages(): { file: string; text: string; topic: string; certUrl: string }[] {
  return readdirSync(SNS_FIXTURES)
    .filter((f) => f.startsWith('http_notification_'))
    .map((file) => {
      const text = readFileSync(path.join(SNS_FIXTURES, file), 'utf8');
      const json = JSON.parse(text) as { TopicArn: string; SigningCertURL: string };
      return { file, text, topic: json.TopicArn, certUrl: json.SigningCertURL };
    });
}

export const SNS_CERT = () => readFileSync(path.join(SNS_FIXTURES, 'sns-signing-cert-2021.pem'), 'utf8');

/** Seed 000's seven alarms and their paging rules. */
export const SEED_ALARMS = {
  fiveXx: 'GoVisaX-Prod-API-5XX-Rate',
  taskStopped: 'GoVisaX-Prod-ECS-TaskStopped',
  circuit: 'GoVisaX-Prod-V2F-Circuit-Open',
  health: 'GoVisaX-Prod-HealthCheck',
  rdsCpu: 'GoVisaX-Prod-RDS-CPU',
  latency: 'GoVisaX-Prod-API-Latency-P95',
  redis: 'GoVisaX-Prod-Redis-Memory',
};

export function writeAlarmRunbook(opts: { flapping?: { transitions: number; minutes: number }; extraTopics?: string[]; health?: string } = {}): string {
  const topics = [...signedSnsMessages().map((m) => m.topic), ...(opts.extraTopics ?? [])].map((t) => `"${t}"`).join(', ');
  const yaml = `
version: 1
launch: { name: Alarm test, channel: C0OPS, timezone: Asia/Kolkata }
roles:
  devops: { name: DevOps, users: [U0DEVOPS] }
gates:
  - { id: g, title: G, items: [{ id: a, title: A, level: info, owner: devops }] }
alarms:
  region: ap-south-1
  prefixes: [GoVisaX-Prod]
  flapping: { transitions: ${opts.flapping?.transitions ?? 4}, minutes: ${opts.flapping?.minutes ?? 30} }
  sns_topics: [${topics}]
  rules:
    - { match: ${SEED_ALARMS.fiveXx}, severity: critical, page: true, description: ">1% 5xx errors over 5 min" }
    - { match: ${SEED_ALARMS.taskStopped}, severity: critical, page: true }
    - { match: ${SEED_ALARMS.circuit}, severity: critical, page: true }
    - { match: ${SEED_ALARMS.health}, severity: critical, page: true, incident: P1, services: [api, checkout] }
    - { match: "GoVisaX-Prod-*", severity: warning }
pagerduty: { source: govisax-prod }
incidents:
  severities:
    P1: { name: Critical, response_minutes: 0, page: true, owner: devops }
    P2: { name: High, response_minutes: 30 }
${opts.health ? `health: ${opts.health}\n` : ''}`;
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'golive-alarms-')), 'alarms.yml');
  writeFileSync(file, yaml);
  return file;
}
