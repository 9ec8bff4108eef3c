import { OutboxRepository } from '../platform/outbox/outbox-repository.js';
import type { PageNotifier } from '../platform/outbox/outbox-pages.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { Store } from '../platform/store/store.js';
import type { EscalationCandidate, EscalationNotifier } from './escalation-service.js';
import { levelName } from './plan-escalation.js';
import { channelPost, directMessage, escalationEmail, pageSummary, type EscalationContext } from './render-escalation.js';

/** A fired level's email (SES, through the outbox), channel post, DMs and page, stored in the level's transaction. */
export class OutboxEscalationNotifier implements EscalationNotifier {
  private readonly outbox: OutboxRepository;

  constructor(private readonly deps: { runbook: Runbook; store: Store; pages: PageNotifier }) {
    this.outbox = new OutboxRepository(deps.store);
  }

  async fire(c: EscalationCandidate, i: number, dmUsers: string[], page: boolean, at: string): Promise<void> {
    const { runbook } = this.deps;
    const level = c.subject.levels[i]!;
    const ctx: EscalationContext = { launch: runbook.launch.name, timezone: runbook.launch.timezone, opsChannel: runbook.launch.channel, levels: c.subject.levels, level: i, mentions: this.mentions(level.mention), subjectPrefix: runbook.email?.subject_prefix };
    if (level.email.length > 0 && runbook.email) {
      const mail = escalationEmail(c.about, ctx);
      await this.outbox.enqueue('SendEmail', { from: runbook.email.from, to: level.email, subject: mail.subject, text: mail.text }, at, { target: 'email' });
    }
    if (level.channel) {
      const channel = level.channel === 'incident' && c.about.kind === 'incident' ? c.about.channelId : runbook.launch.channel;
      await this.post(channel, channelPost(c.about, ctx), at);
    }
    // A user id as the channel: Slack posts it in the app's direct message with that person.
    for (const user of dmUsers) await this.post(user, directMessage(c.about, ctx), at);
    if (page) {
      await this.deps.pages.trigger(
        {
          dedupKey: c.dedupKey,
          summary: pageSummary(c.about, ctx),
          source: runbook.pagerduty?.source ?? 'golive',
          severity: c.about.kind === 'incident' ? (c.about.severity === 'P1' ? 'critical' : c.about.severity === 'P2' ? 'error' : 'warning') : c.about.severity === 'critical' ? 'critical' : c.about.severity === 'error' ? 'error' : 'warning',
          class: 'escalation',
          customDetails: { level: levelName(ctx.levels, ctx.level), launch: runbook.launch.name, subject: c.target },
        },
        at,
      );
    }
  }

  private async post(channel: string, text: string, at: string): Promise<void> {
    await this.outbox.enqueue('chat.postMessage', { channel, text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }], unfurl_links: false }, at);
  }

  /** Roles as mentions: users by id, user groups as groups, so nobody in them is left out. */
  private mentions(roles: readonly string[]): string[] {
    return roles.flatMap((r) => [...(this.deps.runbook.roles[r]?.users ?? []).map((u) => `<@${u}>`), ...(this.deps.runbook.roles[r]?.groups ?? []).map((g) => `<!subteam^${g}>`)]);
  }
}
