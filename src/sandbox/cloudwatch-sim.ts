import type { AlarmHistoryItem, AlarmState, CloudWatchPort, MetricQuery, MetricSeries } from '../platform/aws/cloudwatch-port.js';
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
export class CloudWatchSim implements CloudWatchPort {
  private readonly alarms: SimAlarm[];
  private readonly listeners: (() => void)[] = [];

  constructor(
    runbook: Runbook,
    private readonly opts: { now?: () => number; snapshot?: CloudWatchSimSnapshot } = {},
  ) {
    this.alarms = opts.snapshot?.alarms ?? [];
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
    return { version: 1, alarms: this.alarms };
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

  private iso(): string {
    return new Date(this.opts.now?.() ?? Date.now()).toISOString();
  }
}
