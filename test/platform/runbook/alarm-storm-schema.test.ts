import { describe, expect, it } from 'vitest';
import { formatProblem, parseRunbook } from '../../../src/platform/runbook/load-runbook.js';

const runbook = (storm: string) => `version: 1
launch: { name: A, channel: C0OPS }
roles: { ops: { name: Ops, anyone: true } }
gates: [{ id: g, title: G, items: [{ id: a, title: A, level: info, owner: ops }] }]
alarms:
  prefixes: [App-]
${storm}`;

const problems = (storm: string) => {
  const r = parseRunbook(runbook(storm), 'rb.yml');
  return r.ok ? [] : r.problems.map(formatProblem);
};

describe('alarms.storm', () => {
  it('defaults to more than 10 alarms, over after 10 quiet minutes, one page per alarm', () => {
    const r = parseRunbook(runbook(''), 'rb.yml');
    expect(r.ok && r.runbook.alarms!.storm).toEqual({ threshold: 10, quiet_minutes: 10, paging: 'per_alarm' });
    const set = parseRunbook(runbook('  storm: { threshold: 25, quiet_minutes: 5, paging: by_rule }'), 'rb.yml');
    expect(set.ok && set.runbook.alarms!.storm).toEqual({ threshold: 25, quiet_minutes: 5, paging: 'by_rule' });
  });

  it('says what is wrong with each setting', () => {
    expect(problems('  storm: { threshold: 0 }')).toEqual(['rb.yml:7: alarms.storm.threshold: must be at least 1: a storm is more than this many alarms going to ALARM in one poll']);
    expect(problems('  storm: { threshold: 2.5, quiet_minutes: 0 }')).toEqual([
      'rb.yml:7: alarms.storm.threshold: must be a whole number of alarms (e.g. 10)',
      'rb.yml:7: alarms.storm.quiet_minutes: must be at least 1 minute',
    ]);
    expect(problems('  storm: { threshold: "ten" }')).toEqual(['rb.yml:7: alarms.storm.threshold: must be a whole number of alarms (e.g. 10)']);
    expect(problems('  storm: { quiet_minutes: 2000 }')).toEqual(['rb.yml:7: alarms.storm.quiet_minutes: must be at most 1440 minutes (a day)']);
    expect(problems('  storm: { paging: per_rule }')).toEqual(['rb.yml:7: alarms.storm.paging: must be per_alarm (one PagerDuty page per alarm) or by_rule (one page per alarm rule for the whole storm)']);
    expect(problems('  storm: { treshold: 3 }')).toEqual(['rb.yml:7: alarms.storm: unknown field "treshold" (did you mean "threshold"?)']);
  });
});
