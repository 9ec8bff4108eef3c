import { clip, escapeText } from '../escape.js';
import { formatTime, humanDuration } from '../format-time.js';
import { section } from '../slack/blocks.js';
import type { SlackMessage } from '../slack/slack-port.js';
import type { WatchRecord } from './watch-health-repository.js';

/* What golive says when it cannot do its job, and when it can again: the ops channel's notices and the one line status, App Home and /golive alarms show. */

/** The three things golive watches about itself. */
export type WatchName = 'alarms' | 'pagerduty' | 'outbox';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const errorText = (r: WatchRecord) => escapeText(clip(r.error, 400));

function message(text: string): SlackMessage {
  return { text, blocks: [section(text)] };
}

/** The ops channel's notice, posted once, when a watch crosses its threshold. */
export function renderWatchFailing(watch: WatchName, r: WatchRecord, tz: string, backlogMinutes: number): SlackMessage {
  const since = formatTime(r.since, tz);
  if (watch === 'alarms') {
    return message(
      `🙈 *golive is not watching alarms.* ${plural(r.failures, 'CloudWatch poll')} in a row failed, since ${since}: ${errorText(r)}\n` +
        'Until this clears, an alarm that fires may be neither posted nor paged by golive: watch the CloudWatch console. golive keeps polling and says here when it can see the alarms again.',
    );
  }
  if (watch === 'pagerduty') {
    return message(
      `📟 *Pages are not reaching PagerDuty.* ${plural(r.failures, 'delivery', 'deliveries')} in a row failed, since ${since}: ${errorText(r)}\n` +
        'golive keeps retrying them, but on-call may not have been paged: if something is firing, call them. golive says here when PagerDuty takes pages again.',
    );
  }
  return message(
    `📮 *golive’s messages are backing up.* ${plural(r.failures, 'delivery', 'deliveries')} waiting, the oldest since ${since} (over ${backlogMinutes} min): ${errorText(r)}\n` +
      'Posts, board updates and emails arrive late until this clears; golive keeps retrying them and says here when they flow again.',
  );
}

/** The ops channel's notice when an announced watch works again. */
export function renderWatchRecovered(watch: WatchName, r: WatchRecord, now: string, tz: string, backlogMinutes: number): SlackMessage {
  const since = formatTime(r.since, tz);
  const at = formatTime(now, tz);
  const lasted = humanDuration(Date.parse(now) - Date.parse(r.since));
  if (watch === 'alarms') {
    return message(`👀 *golive is watching alarms again:* CloudWatch answered at ${at}, after ${plural(r.failures, 'failed poll')} since ${since} (${lasted}). Alarms that changed meanwhile are posted as usual.`);
  }
  if (watch === 'pagerduty') {
    return message(`📟 *PagerDuty takes pages again:* one was delivered at ${at}, after ${plural(r.failures, 'failed delivery', 'failed deliveries')} since ${since} (${lasted}). Pages still waiting go out at their next retry.`);
  }
  return message(`📮 *golive’s messages flow again:* at ${at} nothing had waited over ${backlogMinutes} min. They had been backing up since ${since} (${lasted}).`);
}

/** The line `/golive status`, App Home and `/golive alarms` show while a watch is failing (no counts: it is redrawn only when the watch fails or recovers). */
export function watchLine(watch: WatchName, r: WatchRecord, tz: string): string {
  const since = formatTime(r.since, tz);
  if (watch === 'alarms') return `🙈 *Not watching alarms* since ${since}: CloudWatch polls are failing — ${errorText(r)}`;
  if (watch === 'pagerduty') return `📟 *Pages are not reaching PagerDuty* since ${since}: deliveries are failing — ${errorText(r)}`;
  return `📮 *golive’s messages are backing up* since ${since} — ${errorText(r)}`;
}
