/** One CloudWatch alarm's current state. */
export interface AlarmState {
  name: string;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  reason: string;
  updatedAt: string;
  kind: 'metric' | 'composite';
}

/** The CloudWatch reads golive needs. */
export interface CloudWatchPort {
  /** Every metric and composite alarm whose name starts with one of `prefixes`, all pages. */
  describeAlarms(region: string, prefixes: readonly string[]): Promise<AlarmState[]>;
}
