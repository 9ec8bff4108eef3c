import cron from 'node-cron';

const DAY_S = 86_400;

/**
 * The shortest time between two runs of a cron schedule (node-cron's 5 or 6
 * fields), within a day: `* * * * *` → 60 s, `*\/5 * * * *` → 5 min,
 * `0 9-17 * * *` → 1 h. Day, month and weekday fields only lengthen some
 * gaps, so they are left out: the answer is the schedule's own pace, never
 * its longest pause.
 */
export function shortestCronGapMs(expression: string): number {
  const fields = cron.parse(expression);
  const times: number[] = [];
  for (const h of [...fields.hour].sort((a, b) => a - b)) for (const m of [...fields.minute].sort((a, b) => a - b)) for (const s of [...fields.second].sort((a, b) => a - b)) times.push(h * 3600 + m * 60 + s);
  if (times.length === 0) return DAY_S * 1000;
  // Once a day is a gap of a whole day (from one day's run to the next's).
  let gap = DAY_S - times[times.length - 1]! + times[0]!;
  for (let i = 1; i < times.length; i++) gap = Math.min(gap, times[i]! - times[i - 1]!);
  return gap * 1000;
}
