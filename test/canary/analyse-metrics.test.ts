import { describe, expect, it } from 'vitest';
import { analysisQueries, checkInterval, describeBounds, describeFailure, formatValue, scoreMetrics } from '../../src/canary/analyse-metrics.js';
import type { CanaryMetric } from '../../src/platform/runbook/schema.js';

const errorRate: CanaryMetric = {
  label: '5xx rate',
  namespace: 'App/Prod',
  metric: 'Http5xx',
  per: 'Requests',
  stat: 'Sum',
  dimensions: { Service: 'app' },
  canary: { Variant: 'canary' },
  stable: { Variant: 'stable' },
  max_above_stable: 0.5,
  unit: '%',
};
const latency: CanaryMetric = { label: 'p95 latency', namespace: 'App/Prod', metric: 'LatencyMs', stat: 'p95', dimensions: { Service: 'app' }, canary: { Variant: 'canary' }, stable: { Variant: 'stable' }, max_times_stable: 1.2, max: 1000, unit: 'ms' };

const T = ['2026-12-03T02:00:00.000Z', '2026-12-03T02:01:00.000Z', '2026-12-03T02:02:00.000Z'];
const series = (values: (number | undefined)[]) => {
  const keep = values.map((v, i) => [v, T[i]!] as const).filter(([v]) => v !== undefined);
  return { values: keep.map(([v]) => v!), timestamps: keep.map(([, t]) => t) };
};

describe('analysisQueries', () => {
  it('asks for every metric and its denominator for both versions, with ids CloudWatch accepts', () => {
    const q = analysisQueries({ metrics: [errorRate, latency] });
    expect(q.map((x) => x.id)).toEqual(['m0_c_n', 'm0_c_d', 'm0_s_n', 'm0_s_d', 'm1_c_n', 'm1_s_n']);
    for (const x of q) expect(x.id).toMatch(/^[a-z][a-zA-Z0-9_]*$/);
    expect(q[0]!.metric).toEqual({ namespace: 'App/Prod', metric: 'Http5xx', dimensions: { Service: 'app', Variant: 'canary' }, stat: 'Sum' });
    expect(q[3]!.metric).toEqual({ namespace: 'App/Prod', metric: 'Requests', dimensions: { Service: 'app', Variant: 'stable' }, stat: 'Sum' });
    expect(q[5]!.metric.stat).toBe('p95');
  });
});

describe('scoreMetrics', () => {
  it('works out rates from sums per interval, treats a missing error count as 0, and fails the interval where the canary is worse than stable + 0.5', () => {
    const [score] = scoreMetrics(
      { metrics: [errorRate] },
      {
        m0_c_n: series([undefined, 2, 9]),
        m0_c_d: series([100, 100, 100]),
        m0_s_n: series([1, 2, 3]),
        m0_s_d: series([1000, 1000, 1000]),
      },
    );
    expect(score!.intervals.map((i) => [i.canary, i.stable, i.verdict])).toEqual([
      [0, 0.1, 'pass'],
      [2, 0.2, 'fail'],
      [9, 0.3, 'fail'],
    ]);
    expect(score!.failures).toBe(2);
    expect(score!.verdict).toBe('fail');
    expect(score!.latest?.canary).toBe(9);
    expect(describeFailure(errorRate, score!)).toBe('canary 2 % > stable 0.2 % + 0.5');
  });

  it('has no rate for an interval without requests, and no verdict for a metric with no data at all', () => {
    const [score] = scoreMetrics({ metrics: [errorRate] }, { m0_c_n: series([1]), m0_c_d: series([0]), m0_s_n: series([]), m0_s_d: series([]) });
    expect(score!.intervals).toEqual([]);
    expect(score!.verdict).toBe('unknown');
    expect(score!.latest).toBeUndefined();
  });

  it('holds a latency to 1.2 × stable and an absolute bound; without a stable value the comparison is unknown, never a pass', () => {
    const [score] = scoreMetrics({ metrics: [latency] }, { m1_c_n: series([]), m0_c_n: series([300, 400, 350]), m0_s_n: series([300, 300, undefined]) });
    expect(score!.intervals.map((i) => i.verdict)).toEqual(['pass', 'fail', 'unknown']);
    expect(describeFailure(latency, score!)).toBe('canary 400 ms > 1.2 × stable 300 ms');
  });
});

describe('checkInterval', () => {
  it('judges each bound the metric declares', () => {
    const m: CanaryMetric = { ...latency, min: 10, max_above_stable: 50 };
    expect(checkInterval(m, 5, 100)).toEqual([
      { check: 'max', outcome: 'pass', limit: 1000 },
      { check: 'min', outcome: 'fail', limit: 10 },
      { check: 'max_above_stable', outcome: 'pass', limit: 150 },
      { check: 'max_times_stable', outcome: 'pass', limit: 120 },
    ]);
    expect(checkInterval(m, undefined, 100).every((c) => c.outcome === 'unknown')).toBe(true);
  });
});

describe('words', () => {
  it('describes bounds and values the way the scorecard shows them', () => {
    expect(describeBounds(errorRate)).toEqual(['≤ stable + 0.5']);
    expect(describeBounds(latency)).toEqual(['≤ 1000 ms', '≤ 1.2 × stable']);
    expect(formatValue(0.41666, '%')).toBe('0.417 %');
    expect(formatValue(312.4, 'ms')).toBe('312 ms');
    expect(formatValue(undefined, 'ms')).toBe('no data');
    expect(formatValue(12.345, undefined)).toBe('12.3');
  });
});
