import { describe, expect, it } from 'vitest';
import { decideCanary, judgeEvidence, promoteRefusal, type CanaryEvidence } from '../../src/canary/decide-canary.js';
import type { MetricScore } from '../../src/canary/analyse-metrics.js';
import type { CanaryConfig } from '../../src/platform/runbook/schema.js';

const config: CanaryConfig = {
  service: 'App-Prod-Service-Canary',
  desired_count: 1,
  always: false,
  bake_minutes: 10,
  interval_seconds: 60,
  failure_limit: 0,
  auto_promote: false,
  allow_override: false,
  decide_within_minutes: 30,
  promoters: [],
  alarms: ['App-Prod-API'],
  health_check: { url: 'http://127.0.0.1/healthz', expect_status: 200, timeout_seconds: 2 },
  metrics: [{ label: '5xx rate', namespace: 'App/Prod', metric: 'Http5xx', per: 'Requests', stat: 'Sum', dimensions: {}, canary: { Variant: 'canary' }, stable: { Variant: 'stable' }, max_above_stable: 0.5, unit: '%' }],
};

const passing: MetricScore = { label: '5xx rate', unit: '%', intervals: [{ at: 't', canary: 0.1, stable: 0.2, checks: [{ check: 'max_above_stable', outcome: 'pass', limit: 0.7 }], verdict: 'pass' }], failures: 0, verdict: 'pass' };
const failing: MetricScore = { ...passing, intervals: [{ at: 't', canary: 3, stable: 0.2, checks: [{ check: 'max_above_stable', outcome: 'fail', limit: 0.7 }], verdict: 'fail' }], failures: 1, verdict: 'fail' };

function evidence(over: Partial<CanaryEvidence> = {}): CanaryEvidence {
  return {
    at: '2026-12-03T02:05:00.000Z',
    tasks: { running: 1, desired: 1, taskDefinition: 'app-prod:5' },
    alarms: { firing: [] },
    metrics: { scores: [passing] },
    health: { ok: true, detail: '200 in 12 ms' },
    healthFailures: 0,
    cloudwatchCalls: 1,
    ...over,
  };
}

const bakeEndsAt = new Date('2026-12-03T02:10:00Z');
const before = new Date('2026-12-03T02:05:00Z');
const after = new Date('2026-12-03T02:10:00Z');

describe('decideCanary', () => {
  it('keeps baking while the evidence passes and the bake has time left', () => {
    expect(decideCanary({ state: 'baking', now: before, bakeEndsAt, config, evidence: evidence() })).toEqual({ kind: 'continue' });
  });

  it('aborts by itself on a failing metric, naming the comparison', () => {
    expect(decideCanary({ state: 'baking', now: before, bakeEndsAt, config, evidence: evidence({ metrics: { scores: [failing] } }) })).toEqual({
      kind: 'abort',
      reason: '5xx rate: canary 3 % > stable 0.2 % + 0.5 (1 failing interval, 0 allowed)',
    });
  });

  it('tolerates failing intervals up to failure_limit, but does not promote by itself over them', () => {
    const tolerant = { ...config, failure_limit: 1, auto_promote: true };
    expect(decideCanary({ state: 'baking', now: before, bakeEndsAt, config: tolerant, evidence: evidence({ metrics: { scores: [failing] } }) }).kind).toBe('continue');
    expect(decideCanary({ state: 'baking', now: after, bakeEndsAt, config: tolerant, evidence: evidence({ metrics: { scores: [failing] } }) })).toEqual({
      kind: 'wait',
      why: "some intervals failed within the runbook's tolerance (5xx rate: canary 3 % > stable 0.2 % + 0.5 (1 failing interval, within the 1 allowed)), so it is not promoted by itself",
    });
  });

  it('aborts on failing tasks before anything else, then on a firing alarm', () => {
    const ev = evidence({ tasks: { running: 0, desired: 1, taskDefinition: 'app-prod:5', problem: '0 of 1 running' }, alarms: { firing: [{ name: 'App-Prod-API-5XX', since: 'x' }] }, metrics: { scores: [failing] } });
    expect(decideCanary({ state: 'baking', now: before, bakeEndsAt, config, evidence: ev })).toEqual({ kind: 'abort', reason: "the canary's tasks are failing: 0 of 1 running" });
    expect(decideCanary({ state: 'waiting', now: before, bakeEndsAt, config, evidence: evidence({ alarms: { firing: [{ name: 'App-Prod-API-5XX', since: 'x' }] } }) })).toEqual({ kind: 'abort', reason: 'alarm `App-Prod-API-5XX` is in ALARM' });
  });

  it('aborts after more health check failures than allowed', () => {
    const d = decideCanary({ state: 'baking', now: before, bakeEndsAt, config, evidence: evidence({ health: { ok: false, detail: 'GET http://127.0.0.1/healthz answered 503, expected 200' }, healthFailures: 1 }) });
    expect(d).toEqual({ kind: 'abort', reason: 'health check failed 1 time (0 allowed): GET http://127.0.0.1/healthz answered 503, expected 200' });
  });

  it('waits for a person at the end of the bake unless the runbook lets the analysis promote', () => {
    expect(decideCanary({ state: 'baking', now: after, bakeEndsAt, config, evidence: evidence() })).toEqual({ kind: 'wait', why: 'the runbook asks a person to promote it' });
    const auto = { ...config, auto_promote: true };
    expect(decideCanary({ state: 'baking', now: after, bakeEndsAt, config: auto, evidence: evidence() })).toEqual({ kind: 'promote' });
    expect(decideCanary({ state: 'baking', now: after, bakeEndsAt, config: auto, evidence: evidence(), lockedBy: '`app` is locked by <@U1>' })).toEqual({ kind: 'wait', why: '`app` is locked by <@U1>, so it is not promoted by itself' });
    expect(decideCanary({ state: 'baking', now: after, bakeEndsAt, config: auto, evidence: evidence({ metrics: { unknown: 'CloudWatch throttled' } }) })).toEqual({
      kind: 'wait',
      why: 'the analysis could not judge everything (metrics: CloudWatch throttled), so it is not promoted by itself',
    });
  });

  it('does not leave a canary nobody decided on running: it aborts once decide_within_minutes pass', () => {
    expect(decideCanary({ state: 'waiting', now: new Date('2026-12-03T02:39:59Z'), bakeEndsAt, config, evidence: evidence() }).kind).toBe('continue');
    expect(decideCanary({ state: 'waiting', now: new Date('2026-12-03T02:40:00Z'), bakeEndsAt, config, evidence: evidence() })).toEqual({
      kind: 'abort',
      reason: 'nobody promoted or aborted it within 30 minutes of the bake ending, so the canary is not left running unattended',
    });
  });
});

describe('judgeEvidence', () => {
  it('lists what could not be judged', () => {
    expect(judgeEvidence(config, evidence({ alarms: { unknown: 'the alarm watcher has not polled yet' }, metrics: { scores: [{ ...passing, intervals: [], verdict: 'unknown' }] } }))).toEqual({
      verdict: 'unknown',
      failing: [],
      unknown: ['alarms: the alarm watcher has not polled yet', '5xx rate: no data to compare yet'],
      tolerated: [],
    });
  });
});

describe('promoteRefusal', () => {
  it('lets Promote through on passing or unknown evidence', () => {
    expect(promoteRefusal(config, evidence(), undefined)).toEqual({ refused: false, override: false });
  });
  it('refuses Promote on failing evidence; with allow_override it needs a note, and then counts as an override', () => {
    const bad = evidence({ metrics: { scores: [failing] } });
    expect(promoteRefusal(config, bad, 'ship it')).toEqual({
      refused: true,
      needsNote: false,
      reason: 'the analysis fails: 5xx rate: canary 3 % > stable 0.2 % + 0.5 (1 failing interval, 0 allowed). The runbook does not allow promoting over a failing analysis',
      failing: ['5xx rate: canary 3 % > stable 0.2 % + 0.5 (1 failing interval, 0 allowed)'],
    });
    const lenient = { ...config, allow_override: true };
    expect(promoteRefusal(lenient, bad, '  ')).toMatchObject({ refused: true, needsNote: true });
    expect(promoteRefusal(lenient, bad, 'errors are from a known bot')).toEqual({ refused: false, override: true });
  });
  it('refuses before the first measurement', () => {
    expect(promoteRefusal(config, undefined, undefined)).toEqual({ refused: true, reason: 'the canary has not been measured yet', needsNote: false, failing: [] });
  });
  it('counts failures within failure_limit against a Promote: the tolerance only keeps a blip from aborting it', () => {
    const tolerant = { ...config, failure_limit: 1 };
    expect(promoteRefusal(tolerant, evidence({ metrics: { scores: [failing] } }), undefined)).toMatchObject({
      refused: true,
      needsNote: false,
      failing: ['5xx rate: canary 3 % > stable 0.2 % + 0.5 (1 failing interval, within the 1 allowed)'],
    });
  });
});
