import type { Clock } from '../platform/clock.js';
import { PARENT_CHANNEL, PARENT_TS } from '../platform/outbox/outbox.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { AlarmChange, AlarmNotifier, AlarmRow, AlarmRule } from './alarm-service.js';
import type { AlarmState } from '../platform/aws/cloudwatch-port.js';
import { OutboxRepository } from '../platform/outbox/outbox-repository.js';
import type { Store } from '../platform/store/store.js';
import { AlarmRepository } from './alarm-repository.js';
import { packStormAlarms, renderBaseline, renderFiring, renderFlapping, renderRecovery, renderSettled, renderStorm, renderStormAlarms, renderTransition } from './render-alarms.js';
import type { StormAlarmView, StormView } from './storm-service.js';
import { escapeText } from '../platform/escape.js';
import type { SlackMessage } from '../platform/slack/slack-port.js';

/** Alarm posts go out before announcements and board refreshes (see src/platform/slack/call-scheduler.ts). */
const URGENT = { priority: 'urgent' } as const;

/**
 * Alarm transitions as Slack posts, stored in the outbox inside the
 * transition's transaction. Thread replies and updates name the firing post
 * by its outbox row; the outbox fills in its ts once it is delivered.
 */
export class SlackAlarmNotifier implements AlarmNotifier {
  private readonly outbox: OutboxRepository;
  private readonly alarms: AlarmRepository;
  constructor(private readonly deps: { runbook: Runbook; store: Store; clock: Clock }) {
    this.outbox = new OutboxRepository(deps.store);
    this.alarms = new AlarmRepository(deps.store);
  }

  private get channel(): string {
    return this.deps.runbook.launch.channel;
  }

  private get tz(): string {
    return this.deps.runbook.launch.timezone;
  }

  private async post(m: SlackMessage): Promise<number> {
    return this.outbox.enqueue('chat.postMessage', { channel: this.channel, text: m.text, blocks: m.blocks, unfurl_links: false }, this.deps.clock.now().toISOString(), URGENT);
  }

  private async reply(parent: number, m: SlackMessage): Promise<void> {
    await this.outbox.enqueue('chat.postMessage', { channel: PARENT_CHANNEL, thread_ts: PARENT_TS, text: m.text, blocks: m.blocks, unfurl_links: false }, this.deps.clock.now().toISOString(), { ...URGENT, dependsOn: parent });
  }

  private async update(parent: number, m: SlackMessage): Promise<void> {
    await this.outbox.enqueue('chat.update', { channel: PARENT_CHANNEL, ts: PARENT_TS, text: m.text, blocks: m.blocks }, this.deps.clock.now().toISOString(), { ...URGENT, dependsOn: parent });
  }

  /** The storm post goes out first (urgent), so the critical alarms it names are seen within seconds. */
  async stormStarted(v: StormView): Promise<number> {
    return this.post(renderStorm(v, this.tz));
  }

  /** Edited in place as the storm evolves: one pending edit at a time, always the latest counts. */
  async stormChanged(post: number, v: StormView): Promise<void> {
    const m = renderStorm(v, this.tz);
    await this.outbox.enqueue('chat.update', { channel: PARENT_CHANNEL, ts: PARENT_TS, text: m.text, blocks: m.blocks }, this.deps.clock.now().toISOString(), { priority: 'people', dependsOn: post, coalesce: true });
  }

  /** The alarms' lines in the storm's thread, as many per reply as Slack's limits allow (after the post, before announcements pile up). */
  async stormReplies(post: number, alarms: StormAlarmView[]): Promise<{ outboxId: number; alarms: StormAlarmView[] }[]> {
    const out: { outboxId: number; alarms: StormAlarmView[] }[] = [];
    for (const chunk of packStormAlarms(alarms)) {
      const m = renderStormAlarms(chunk, this.tz);
      const outboxId = await this.outbox.enqueue('chat.postMessage', { channel: PARENT_CHANNEL, thread_ts: PARENT_TS, text: m.text, blocks: m.blocks, unfurl_links: false }, this.deps.clock.now().toISOString(), { priority: 'people', dependsOn: post });
      out.push({ outboxId, alarms: chunk });
    }
    return out;
  }

  /** A reply whose alarms recovered or were acknowledged, redrawn (coalesced, behind what people are waiting for). */
  async stormReplyChanged(reply: number, alarms: StormAlarmView[]): Promise<void> {
    const m = renderStormAlarms(alarms, this.tz);
    await this.outbox.enqueue('chat.update', { channel: PARENT_CHANNEL, ts: PARENT_TS, text: m.text, blocks: m.blocks }, this.deps.clock.now().toISOString(), { priority: 'refresh', dependsOn: reply, coalesce: true });
  }

  async firing(c: AlarmChange): Promise<number> {
    return this.post(renderFiring(c, this.tz));
  }

  async recovered(c: AlarmChange, firingPost: number, firedAt: string): Promise<void> {
    await this.reply(firingPost, renderRecovery(c, this.tz));
    const row = { ...c.row, fired_at: firedAt };
    await this.update(firingPost, renderFiring({ ...c, row, reason: (await this.firingReason(c.name, firedAt)) ?? c.reason }, this.tz, { recoveredAt: c.at, firedForMs: c.firedForMs, acknowledgedBy: row.acked_by ?? undefined, acknowledgedAt: row.acked_at ?? undefined }));
  }

  async threaded(c: AlarmChange, post: number | null): Promise<number | null> {
    const m = renderTransition(c, this.tz);
    if (post === null) return this.post(m);
    await this.reply(post, m);
    return null;
  }

  async flapping(c: AlarmChange, post: number | null, transitions: number, minutes: number): Promise<number | null> {
    const m = renderFlapping(c, transitions, minutes);
    if (post === null) return this.post(m);
    await this.reply(post, m);
    return null;
  }

  async acknowledged(name: string, userId: string, rule: AlarmRule, row: AlarmRow): Promise<void> {
    if (row.post_outbox_id === null || !row.fired_at) return;
    if (row.storm_id !== null) {
      // Its post is a reply in a storm's thread, with other alarms: the storm redraws that line; this is said in the thread.
      await this.reply(row.post_outbox_id, { text: `👀 <@${userId}> acknowledged \`${escapeText(name)}\`${rule.page ? ' (and its PagerDuty incident)' : ''}.` });
      return;
    }
    const change: AlarmChange = { name, region: row.region ?? '', to: 'ALARM', at: row.fired_at, reason: (await this.firingReason(name, row.fired_at)) ?? row.reason, rule, row };
    await this.update(row.post_outbox_id, renderFiring(change, this.tz, { acknowledgedBy: userId, acknowledgedAt: row.acked_at ?? undefined }));
    await this.reply(row.post_outbox_id, { text: `👀 <@${userId}> acknowledged this alarm${rule.page ? ' (and the PagerDuty incident)' : ''}.` });
  }

  async settled(row: AlarmRow, minutes: number): Promise<void> {
    const m = renderSettled(row.name, row.state_at, minutes, this.tz);
    if (row.post_outbox_id === null) await this.post(m);
    else await this.reply(row.post_outbox_id, m);
  }

  async baseline(alarms: AlarmState[], rules: (name: string) => AlarmRule): Promise<void> {
    await this.post(renderBaseline(alarms, this.deps.runbook.alarms?.prefixes ?? [], rules));
  }

  /** The reason CloudWatch gave when the alarm started firing (the row holds the latest). */
  private async firingReason(name: string, firedAt: string): Promise<string | undefined> {
    return this.alarms.firingReason(name, firedAt);
  }
}
