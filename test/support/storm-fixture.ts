import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AlarmState, CloudWatchPort } from '../../src/platform/aws/cloudwatch-port.js';

/*
 * An alarm storm for the tests and the bench: a runbook whose alarms are critical and paging (`Storm-API-*`),
 * errors (`Storm-DB-*`) or warnings (the rest), and a CloudWatch held in memory whose alarms a test flips in
 * one go (no moto: 2,000 SetAlarmState calls would be the test).
 */

/** A runbook with three alarm rules and the given `alarms.storm` (YAML flow map, e.g. `{ threshold: 10 }`). */
export function writeStormRunbook(storm = '{}'): string {
  const yaml = `
version: 1
launch: { name: Storm, channel: C0OPS, timezone: Asia/Kolkata }
roles:
  devops: { name: DevOps, users: [U0DEVOPS] }
gates:
  - { id: g, title: G, items: [{ id: a, title: A, level: info, owner: devops }] }
alarms:
  region: ap-south-1
  prefixes: [Storm-]
  storm: ${storm}
  rules:
    - { match: "Storm-API-*", severity: critical, page: true, description: "5xx above 1% for 5 min; pages on-call" }
    - { match: "Storm-DB-*", severity: error, page: true }
    - { match: "Storm-*", severity: warning }
pagerduty: { source: storm-test }
`;
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'golive-storm-')), 'storm.yml');
  writeFileSync(file, yaml);
  return file;
}

/**
 * `n` alarm names: every tenth critical (`Storm-API-*`), a fifth errors (`Storm-DB-*`), the rest warnings, in
 * `all` interleaved as a real storm mixes them (the first critical is the tenth), not critical first.
 */
export function stormAlarmNames(n: number): { all: string[]; critical: string[]; error: string[]; warning: string[] } {
  const out = { all: [] as string[], critical: [] as string[], error: [] as string[], warning: [] as string[] };
  const name = (kind: string, list: string[]) => `Storm-${kind}-${String(list.length + 1).padStart(4, '0')}`;
  for (let i = 0; i < n; i++) {
    const [kind, list] = i % 10 === 9 ? ['API', out.critical] : i % 5 === 2 ? ['DB', out.error] : ['Web', out.warning];
    const alarm = name(kind, list);
    list.push(alarm);
    out.all.push(alarm);
  }
  return out;
}

/** A CloudWatch whose alarms live in memory: `set` changes states (dated now), every read sees them, in the order they were first set. */
export function memoryCloudWatch(): CloudWatchPort & { set(names: readonly string[], state: AlarmState['state'], reason?: string): void } {
  const states = new Map<string, AlarmState>();
  return {
    set(names, state, reason) {
      const at = new Date().toISOString();
      for (const name of names) states.set(name, { name, state, reason: reason ?? `Threshold Crossed: 1 datapoint for ${name} was ${state === 'ALARM' ? 'greater' : 'not greater'} than the threshold.`, updatedAt: at, kind: 'metric' });
    },
    // In the order they were first set: a storm's alarms, as the test mixed them.
    describeAlarms: async (_region, prefixes) => [...states.values()].filter((a) => prefixes.some((p) => a.name.startsWith(p))),
    describeAlarmHistory: async () => {
      throw new Error('DescribeAlarmHistory is not simulated');
    },
    getMetricData: async () => ({ values: [], timestamps: [] }),
  };
}
