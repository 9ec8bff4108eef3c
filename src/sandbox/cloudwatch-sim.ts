import type { AlarmHistoryItem, AlarmState, CloudWatchPort, MetricBatchPort, MetricBatchQuery, MetricBatchResult, MetricQuery, MetricRef, MetricSeries } from '../platform/aws/cloudwatch-port.js';
import { alarmRegion } from '../alarms/index.js';
import type { Runbook } from '../platform/runbook/schema.js';

type State = AlarmState['state'];

interface SimAlarm {
  name: string;
  region: string;
  state: State;
  reason: string;
  updatedAt: string;
  description?: string;
  history: AlarmHistoryItem[];
}

/** The CloudWatch world, saved with the session. */
export interface CloudWatchSimSnapshot {
  version: 1;
  alarms: SimAlarm[];
  /** Runbook services whose canary the page set to fail its analysis. */
  canaryFailing?: string[];
}

/** What the page shows of one service's simulated canary metrics. */
export interface CanaryMetricsView {
  service: string;
  failing: boolean;
}

/** Which runbook canary metric a query asks for. */
interface CanaryQueryMatch {
  service: string;
  variant: 'canary' | 'stable';
  part: 'value' | 'requests' | 'errors';
  latency: boolean;
}

/** What the page shows of one simulated alarm. */
export interface CloudWatchSimAlarmView {
  name: string;
  state: State;
  reason: string;
  updatedAt: string;
  description?: string;
}

const OK_REASON = 'SANDBOX: simulated threshold not crossed';
const ALARM_REASON = 'Threshold Crossed (SANDBOX: set from the sandbox page)';

/**
 * CloudWatch alarms, simulated for the sandbox behind the same
 * {@link CloudWatchPort} the real adapter implements: one alarm per rule in the
 * runbook's `alarms` section (a `Prefix-*` rule gets `Prefix-Sample`), all OK
 * at first; the page flips them and records each change in the history.
 */
export class CloudWatchSim implements CloudWatchPort, MetricBatchPort {
  private readonly alarms: SimAlarm[];
  private readonly listeners: (() => void)[] = [];
  private readonly canaryFailing: Set<string>;

  constructor(
    private readonly runbook: Runbook,
    private readonly opts: { now?: () => number; snapshot?: CloudWatchSimSnapshot } = {},
  ) {
    this.alarms = opts.snapshot?.alarms ?? [];
    this.canaryFailing = new Set(opts.snapshot?.canaryFailing ?? []);
    // The sandbox has no AWS_REGION: its alarms live where the rule puts them without one.
    const region = alarmRegion(runbook, undefined);
    for (const rule of runbook.alarms?.rules ?? []) {
      const name = rule.match.endsWith('*') ? `${rule.match.slice(0, -1)}Sample` : rule.match;
      if (this.alarms.some((a) => a.name === name)) continue;
      this.alarms.push({ name, region, state: 'OK', reason: OK_REASON, updatedAt: this.iso(), ...(rule.description ? { description: rule.description } : {}), history: [] });
    }
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  snapshot(): CloudWatchSimSnapshot {
    return { version: 1, alarms: this.alarms, canaryFailing: [...this.canaryFailing] };
  }

  /** Services with a canary, and whether the page set their canary to fail its analysis. */
  canaryView(): CanaryMetricsView[] {
    return this.runbook.services.filter((s) => s.canary && s.canary.metrics.length > 0).map((s) => ({ service: s.name, failing: this.canaryFailing.has(s.name) }));
  }

  /** Makes the canary of a runbook service report worse metrics than the stable version (or not). */
  setCanaryFailing(service: string, failing: boolean): void {
    if (!this.canaryView().some((v) => v.service === service)) throw new Error(`the sandbox has no canary metrics for service "${service}"`);
    if (failing) this.canaryFailing.add(service);
    else this.canaryFailing.delete(service);
    for (const l of this.listeners) l();
  }

  view(): CloudWatchSimAlarmView[] {
    return this.alarms.map((a) => ({ name: a.name, state: a.state, reason: a.reason, updatedAt: a.updatedAt, ...(a.description ? { description: a.description } : {}) }));
  }

  /** Changes an alarm's state as CloudWatch would when its metric crosses the threshold. */
  setState(name: string, state: State, reason?: string): void {
    const alarm = this.alarms.find((a) => a.name === name);
    if (!alarm) throw new Error(`the sandbox has no alarm "${name}"`);
    if (alarm.state === state) return;
    const at = this.iso();
    const why = reason ?? (state === 'ALARM' ? ALARM_REASON : state === 'OK' ? OK_REASON : 'SANDBOX: simulated missing data');
    alarm.history.push({ name, from: alarm.state, to: state, at, reason: why });
    alarm.state = state;
    alarm.reason = why;
    alarm.updatedAt = at;
    for (const l of this.listeners) l();
  }

  async describeAlarms(region: string, prefixes: readonly string[]): Promise<AlarmState[]> {
    return this.alarms
      .filter((a) => a.region === region && prefixes.some((p) => a.name.startsWith(p)))
      .map((a) => ({ name: a.name, state: a.state, reason: a.reason, updatedAt: a.updatedAt, kind: 'metric' as const }));
  }

  async describeAlarmHistory(region: string, name: string, since: string): Promise<AlarmHistoryItem[]> {
    const alarm = this.alarms.find((a) => a.name === name && a.region === region);
    return (alarm?.history ?? []).filter((h) => h.at > since).map((h) => ({ ...h }));
  }

  /**
   * Metrics for the go/no-go criteria: one datapoint per period, healthy while
   * no simulated alarm fires and degraded while one does, so flipping an alarm
   * on the page also turns the metric criteria red. Times and latencies are in
   * seconds, expressions (ratios) in percent, anything else a count.
   */
  async getMetricData(_region: string, query: MetricQuery, start: Date, end: Date): Promise<MetricSeries> {
    const degraded = this.alarms.some((a) => a.state === 'ALARM');
    const name = 'metric' in query ? query.metric.metric : '';
    const value = 'expression' in query ? (degraded ? 3.1 : 0.12) : /time|latency/i.test(name) ? (degraded ? 1.4 : 0.38) : degraded ? 25 : 0;
    const values: number[] = [];
    const timestamps: string[] = [];
    for (let t = start.getTime(); t < end.getTime(); t += query.period * 1000) {
      values.push(value);
      timestamps.push(new Date(t).toISOString());
    }
    return { values, timestamps };
  }

  /**
   * The canary analysis's metrics: each query is matched to a runbook canary
   * metric by namespace, name and dimensions. The stable version serves ten
   * times the canary's requests with a 0.2 % error rate; the canary matches
   * it, or (set from the page) runs a 5 % error rate and 2.5 × the latency.
   */
  async getMetricDataBatch(_region: string, queries: readonly MetricBatchQuery[], period: number, start: Date, end: Date): Promise<MetricBatchResult> {
    const series: Record<string, MetricSeries> = {};
    for (const q of queries) {
      const match = this.matchCanaryQuery(q.metric);
      const values: number[] = [];
      const timestamps: string[] = [];
      if (match) {
        const failing = match.variant === 'canary' && this.canaryFailing.has(match.service);
        const requests = (match.variant === 'canary' ? 1000 : 10_000) * Math.max(1, Math.round(period / 60));
        const value = match.part === 'requests' ? requests : match.part === 'errors' ? (requests / 1000) * (failing ? 50 : 2) : match.latency ? (failing ? 300 : 120) : failing ? 25 : 1;
        for (let t = start.getTime(); t < end.getTime(); t += period * 1000) {
          values.push(value);
          timestamps.push(new Date(t).toISOString());
        }
      }
      series[q.id] = { values, timestamps };
    }
    return { series, calls: 1 };
  }

  private matchCanaryQuery(ref: MetricRef): CanaryQueryMatch | undefined {
    const same = (a: Record<string, string>, b: Record<string, string>) => {
      const ka = Object.keys(a).sort();
      return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
    };
    for (const s of this.runbook.services) {
      for (const m of s.canary?.metrics ?? []) {
        if (m.namespace !== ref.namespace || m.stat !== ref.stat) continue;
        const variant = same(ref.dimensions, { ...m.dimensions, ...m.canary }) ? 'canary' : same(ref.dimensions, { ...m.dimensions, ...m.stable }) ? 'stable' : undefined;
        if (!variant) continue;
        const latency = /time|latency/i.test(m.metric);
        if (ref.metric === m.metric) return { service: s.name, variant, part: m.per ? 'errors' : 'value', latency };
        if (m.per && ref.metric === m.per) return { service: s.name, variant, part: 'requests', latency };
      }
    }
    return undefined;
  }

  private iso(): string {
    return new Date(this.opts.now?.() ?? Date.now()).toISOString();
  }
}
