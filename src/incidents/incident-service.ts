import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../platform/clock.js';
import { GoliveError } from '../platform/errors.js';
import { formatTime, humanDuration, ymd } from '../platform/format-time.js';
import type { Logger } from '../platform/logger.js';
import { DEFAULT_TEMPLATES, fillTemplate, type TemplateKind } from '../platform/runbook/templates.js';
import type { Runbook } from '../platform/runbook/schema.js';
import { escapeText, topicText } from '../platform/escape.js';
import { SlackCallError, type SlackPort } from '../platform/slack/slack-port.js';
import { AuditRepository, type AuditSource } from '../platform/store/audit-repository.js';
import { OutboxPages, type PageNotifier } from '../platform/outbox/outbox-pages.js';
import type { Store } from '../platform/store/store.js';
import { IncidentRepository, type IncidentEvent, type IncidentRow, type ReminderKind } from './incident-repository.js';
import { pagerSeverityOf, SEVERITIES, type Severity } from '../platform/runbook/schema.js';
import type { OnCallPort } from '../platform/pager/oncall.js';
import type { RoleDirectory } from '../platform/roles/resolve-roles.js';
import { IncidentPinRepository } from './incident-pin-repository.js';

export { SEVERITIES, type Severity, type IncidentEvent, type IncidentRow };

/** Deploys this long before an incident was declared are on its timeline: the change that caused it usually comes first. */
const CHANGES_BEFORE_MS = 60 * 60_000;

/** A pinned message's text is kept up to this many characters. */
const MAX_PIN_TEXT = 3000;

/** Escalation never fires sooner than this after declaring, even for "immediate" severities: people need a moment to click. */
const MIN_ESCALATION_MINUTES = 5;

/** How long a storm firing waits for its rule's incident to finish opening before it opens one of its own. */
export const STORM_COVER_WAIT_MS = 30_000;

/**
 * The Slack side of incidents: formats and stores (in the outbox, inside the
 * change's transaction) the posts each step causes. `text` arguments are
 * already-filled templates; the notifier adds nothing the user typed unescaped.
 */
export interface IncidentNotifier {
  declared(incident: IncidentRow, initial: string, alarmPost: number | null): Promise<void>;
  updated(incident: IncidentRow, update: string, shortLine: string): Promise<void>;
  resolved(incident: IncidentRow, resolved: string): Promise<void>;
  reminder(incident: IncidentRow, kind: 'update' | 'postmortem', lastUpdateAt: string | null): Promise<void>;
  escalated(incident: IncidentRow, roles: { name: string; users: string[] }[], afterMinutes: number, paged: boolean): Promise<void>;
  rollbackPrompt(incident: IncidentRow, service: string | null, minutes: number): Promise<void>;
  acknowledged(incident: IncidentRow): Promise<void>;
  changed(incident: IncidentRow, what: string): Promise<void>;
  /** Alarms of the same storm and rule this incident covers, named in its channel (not the ops channel: the storm post counts them there). */
  alsoFiring(incident: IncidentRow, alarms: { name: string; reason: string }[]): Promise<void>;
}

/** Lowercase words joined by dashes, as Slack channel names allow. */
export function slugify(text: string, max = 40): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  // Cut at a word boundary where there is one: "threshold-cros" reads worse than a shorter name.
  let cut = slug;
  if (slug.length > max) {
    const head = slug.slice(0, max + 1);
    const dash = head.lastIndexOf('-');
    cut = dash > 0 ? head.slice(0, dash) : slug.slice(0, max);
  }
  return cut.replace(/-+$/, '') || 'incident';
}

/** "P1 — Critical" as the runbook names it, or "P1 Critical" when the name does not start with the key. */
export function severityLabel(key: string, name: string | undefined): string {
  if (!name) return key;
  return name.toUpperCase().startsWith(key) ? name : `${key} ${name}`;
}

/** The incident channel's topic, the same when declared and after a re-grade or hand-over; once resolved, it says so first (`resolvedAt` in the launch's words). */
function channelTopic(severity: string, name: string | undefined, summary: string, commander: string, resolvedAt?: string): string {
  return `${resolvedAt ? `✅ Resolved ${resolvedAt} — ` : ''}${severityLabel(severity, name)}: ${topicText(summary.slice(0, 120))} · commander <@${commander}>`;
}

/** The PagerDuty dedup key of an incident's page: the same for its trigger, acknowledge and resolve. */
export function incidentDedupKey(id: number): string {
  return `golive/incident/${id}`;
}

/**
 * Incidents: declare (a channel of its own, the initial template, the page),
 * numbered updates, reminders that survive restarts, and resolution with
 * the post-mortem reminder. Every change is one transaction with its
 * timeline row and the posts and pages it causes.
 */
/** Writes incidents' post-mortem drafts (src/report/); the incident service says when. */
export interface PostmortemDrafts {
  /** Queues the draft; called inside the resolving transaction, so a resolved incident always gets one. */
  queue(incident: IncidentRow, by: string, at: string): Promise<void>;
  /** Queues the draft again, as the incident's record stands now. */
  regenerate(incident: IncidentRow, userId: string): Promise<void>;
  /** The draft's address, if golive has a public one. */
  link(incidentId: number): string | undefined;
}

export class IncidentService {
  private notifier?: IncidentNotifier;
  private readonly rows: IncidentRepository;
  private readonly audit: AuditRepository;
  private readonly pins: IncidentPinRepository;
  private readonly pages: PageNotifier;

  constructor(
    private readonly deps: {
      runbook: Runbook;
      store: Store;
      slack: SlackPort;
      roles: RoleDirectory;
      clock: Clock;
      logger: Logger;
      afterCommit: () => void;
      onCall?: OnCallPort;
      canPage: boolean;
      /** Where its pages go (default: the outbox). */
      pages?: PageNotifier;
      /** The alarm watcher's recorded transitions of an alarm, for the timeline of an incident it opened. */
      alarmTransitions?: (name: string, from: string, until: string) => Promise<{ id: number; at: string; from_state: string | null; to_state: string; reason: string }[]>;
      /** The PagerDuty alert of an alarm (its dedup key, whether its rule pages), for an incident it opened to page under. */
      alarmPage?: (name: string) => Promise<{ dedupKey: string; rulePages: boolean }>;
      /** What the runbook says about an alarm, for the affected services of an incident it opened. */
      alarmRule?: (name: string) => { services?: readonly string[] };
      /** The service deployed last, for the rollback prompt. */
      lastDeployedService?: () => Promise<string | undefined>;
      /** Deploys and rollbacks started in a window, for the incident's timeline. */
      changesBetween?: (from: string, until: string) => Promise<{ id: number; kind: string; service: string; from: string | null; to: string; startedAt: string; outcome: string; requestedBy: string }[]>;
    },
  ) {
    this.rows = new IncidentRepository(deps.store);
    this.audit = new AuditRepository(deps.store);
    this.pins = new IncidentPinRepository(deps.store);
    this.pages = deps.pages ?? new OutboxPages(deps.store);
  }

  notify(notifier: IncidentNotifier): void {
    this.notifier = notifier;
  }

  private drafts?: PostmortemDrafts;

  /** Who writes the post-mortem drafts (the launch report's module). */
  draftPostmortemsWith(drafts: PostmortemDrafts): void {
    this.drafts = drafts;
  }

  /** Where the incident's post-mortem draft can be read, when golive serves it. */
  postmortemLink(incidentId: number): string | undefined {
    return this.drafts?.link(incidentId);
  }

  /** `/golive incident postmortem`: the draft posted again, as the incident's record stands now. */
  async regeneratePostmortem(incident: IncidentRow, userId: string): Promise<void> {
    if (!this.drafts) throw new GoliveError('usage', 'This golive writes no post-mortem drafts.');
    await this.drafts.regenerate(incident, userId);
  }

  get configured(): boolean {
    return this.deps.runbook.incidents !== undefined;
  }

  severity(sev: string) {
    const incidents = this.deps.runbook.incidents;
    if (!incidents) throw new GoliveError('not_configured', 'This runbook defines no incident severities.', 'Add an `incidents:` section with `severities` to the runbook.');
    const key = sev.toUpperCase() as Severity;
    const def = SEVERITIES.includes(key) ? incidents.severities[key] : undefined;
    const defined = SEVERITIES.filter((s) => incidents.severities[s]);
    if (!def) throw new GoliveError('usage', `\`${escapeText(sev.slice(0, 10))}\` is not a severity this runbook defines.`, `Use one of ${defined.join(', ')}.`);
    return { key, def };
  }

  /** The affected services of an incident an alarm opens: its rule's `services`, else what the alarm watches. */
  private alarmServices(alarm: string): string {
    const named = this.deps.alarmRule?.(alarm).services;
    return named && named.length > 0 ? named.join(', ') : `what alarm ${alarm} watches`;
  }

  template(kind: TemplateKind): string {
    return this.deps.runbook.incidents?.templates[kind] ?? DEFAULT_TEMPLATES[kind];
  }

  /**
   * Declares an incident; `alarm` links it to an alarm's firing. The row is
   * reserved before any Slack call, so two declarations racing for one alarm
   * (a click and the rule, a double click) settle in SQLite, and a failure
   * after the channel exists archives that channel instead of leaving it.
   */
  async declare(input: {
    severity: string;
    summary: string;
    services?: string;
    userId: string;
    /** Who declared it, when not the commander (`golive` for alarm rules). */
    declaredBy?: string;
    source: AuditSource;
    alarm?: { name: string; firedAt: string; post: number | null };
    /** An alarm rule's incident in a storm: later firings of the rule there are named in it (declareForAlarm). */
    stormRule?: string;
  }): Promise<{ incident: IncidentRow; refusedInvites: { user: string; error: string }[] }> {
    const { store, slack, clock, runbook } = this.deps;
    const { key, def } = this.severity(input.severity);
    const summary = input.summary.trim().replace(/\s+/g, ' ').slice(0, 300);
    if (!summary) throw new GoliveError('usage', 'An incident needs a summary.', 'Usage: `/golive incident declare <P1-P4> <summary>`');
    const now = clock.now();
    const at = now.toISOString();
    const commander = input.userId;
    const declaredBy = input.declaredBy ?? input.userId;
    // An alarm's incident is about what its rule names, or at least what the alarm watches.
    const services = input.services?.trim() || (input.alarm ? this.alarmServices(input.alarm.name) : '');
    const id = await this.reserve({ key, summary, services, commander, declaredBy, at, alarm: input.alarm, stormRule: input.stormRule });

    let channel: { id: string; name: string } | undefined;
    try {
      // An alarm's incident is named after the alarm: its reason is CloudWatch prose that would be cut mid-word.
      channel = await this.createChannel(key, input.alarm?.name ?? summary, now, id);
      await slack.setTopic(channel.id, channelTopic(key, def.name, summary, commander)).catch((err: Error) => this.deps.logger.warn({ err }, 'could not set the incident channel topic'));
      const invitees = new Set<string>([commander]);
      for (const role of def.invite) for (const u of (await this.deps.roles.members(role)).users) invitees.add(u);
      const onCallProblems = await this.addOnCall(invitees);
      const refusedInvites = [...onCallProblems, ...(await slack.invite(channel.id, [...invitees]).catch((err: Error) => [{ user: '*', error: err.message }]))];
      const made = channel;
      const incident = await store.transaction(async () => {
        await this.rows.opened(id, made.id, made.name);
        const row = await this.get(id);
        await this.event(id, 'declared', declaredBy, { severity: key, summary, channel: made.name, alarm: input.alarm?.name ?? null, source: input.source }, at);
        await this.audit.record({ actor: declaredBy, action: 'incident.declare', target: `INC-${id}`, detail: { severity: key, summary, channel: made.name, commander }, source: input.source, channel: runbook.launch.channel }, at);
        const initial = fillTemplate(this.template('initial'), {
          id: `INC-${id}`,
          severity: key,
          severity_name: escapeText(def.name),
          summary: escapeText(summary),
          started: this.time(at),
          services: escapeText(services || '—'),
          status: 'Investigating',
          eta: 'unknown',
          commander: `<@${commander}>`,
          channel: `<#${made.id}>`,
          launch: escapeText(runbook.launch.name),
          rollback_rule: def.rollback_prompt_minutes
            ? `⏪ ${key}: if the root cause is not identified within ${def.rollback_prompt_minutes} min, roll back to the last known good version; golive asks here at ${this.time(new Date(now.getTime() + def.rollback_prompt_minutes * 60_000).toISOString())} if there is none by then.`
            : '',
        });
        await this.notifier?.declared(row, initial, input.alarm?.post ?? null);
        if (def.page) await this.page(row, at);
        if (def.update_every_minutes) await this.schedule(id, 'update', new Date(now.getTime() + def.update_every_minutes * 60_000));
        await this.planEscalation(id, def, now);
        return this.get(id);
      });
      this.deps.afterCommit();
      return { incident, refusedInvites };
    } catch (err) {
      // Nothing half-made stays behind: the reservation goes, and a channel already created is archived.
      await this.rows.dropReservation(id);
      if (channel) await slack.call('conversations.archive', { channel: channel.id }).catch((e: unknown) => this.deps.logger.warn({ err: e, channel: channel!.name }, 'could not archive a half-made incident channel'));
      throw err;
    }
  }

  /**
   * Opens the incident an alarm rule asks for. Its commander is the
   * severity's owner, else the first member of its invite roles: someone who
   * can act. Failures are logged (nobody is waiting for an answer).
   */
  async declareForAlarm(need: {
    name: string;
    firedAt: string;
    post: number | null;
    severity: Severity;
    reason: string;
    /** In an alarm storm: the storm and rule (`<storm id>:<match>`) whose open incident names this firing instead of a channel of its own. */
    stormRule?: string;
    /** Firings of the same storm and rule this incident covers. */
    covers?: { name: string; reason: string }[];
  }): Promise<void> {
    const { runbook, roles, logger } = this.deps;
    const alarms = [{ name: need.name, reason: need.reason }, ...(need.covers ?? [])];
    if (need.stormRule) {
      const cover = await this.stormIncident(need.stormRule);
      if (cover?.state === 'open') {
        await this.deps.store.transaction(async () => {
          await this.notifier?.alsoFiring(cover, alarms);
          await this.event(cover.id, 'storm_alarms', 'golive', { alarms: alarms.map((a) => a.name) }, this.deps.clock.now().toISOString());
        });
        this.deps.afterCommit();
        return;
      }
      // Resolved while the storm goes on (or never opened): this firing opens the rule's next one, which covers the later ones.
      if (cover) logger.info({ alarm: need.name, incident: cover.id, state: cover.state }, "the storm's incident for this rule is not open; opening a new one for it");
    }
    const def = runbook.incidents?.severities[need.severity];
    const roleNames = [...(def?.owner ? [def.owner] : []), ...(def?.invite ?? [])];
    let commander: string | undefined;
    for (const r of roleNames) {
      commander = (await roles.members(r)).users[0];
      if (commander) break;
    }
    if (!def || !commander) {
      logger.error({ alarm: need.name, severity: need.severity }, 'cannot open the incident the alarm rule asks for: the severity is undefined or has no owner/invite role with members');
      return;
    }
    try {
      const more = alarms.length - 1;
      const summary = more > 0 ? `${need.name} and ${more} more alarm${more > 1 ? 's' : ''} under the same rule: ${need.reason}` : `${need.name}: ${need.reason}`;
      const { incident } = await this.declare({ severity: need.severity, summary, userId: commander, declaredBy: 'golive', source: 'system', alarm: { name: need.name, firedAt: need.firedAt, post: need.post }, stormRule: need.stormRule });
      if (more > 0) {
        await this.deps.store.transaction(async () => {
          await this.notifier?.alsoFiring(incident, alarms.slice(1));
          await this.event(incident.id, 'storm_alarms', 'golive', { alarms: alarms.slice(1).map((a) => a.name) }, this.deps.clock.now().toISOString());
        });
        this.deps.afterCommit();
      }
    } catch (err) {
      logger.error({ err, alarm: need.name }, 'could not open the incident the alarm rule asks for');
    }
  }

  /**
   * The newest incident of a storm's alarm rule; while it is still being opened (its channel made, people
   * invited: seconds, longer when Slack makes golive wait), waits up to {@link STORM_COVER_WAIT_MS} for it.
   */
  private async stormIncident(stormRule: string): Promise<IncidentRow | undefined> {
    const deadline = Date.now() + STORM_COVER_WAIT_MS;
    for (;;) {
      const row = await this.rows.forStormRule(stormRule);
      if (row?.state !== 'declaring' || Date.now() >= deadline) return row;
      await sleep(200);
    }
  }

  /** The severity of an incident declared from an alarm post: the rule's, else P2 if the runbook defines it, else its most severe. */
  severityForAlarm(ruleSeverity: Severity | undefined): Severity {
    const defined = SEVERITIES.filter((s) => this.deps.runbook.incidents?.severities[s]);
    return ruleSeverity ?? (defined.includes('P2') ? 'P2' : (defined[0] ?? 'P2'));
  }

  /** Takes the incident number (and the alarm, if any) before anything else happens. */
  private async reserve(r: { key: Severity; summary: string; services: string; commander: string; declaredBy: string; at: string; alarm?: { name: string; firedAt: string }; stormRule?: string }): Promise<number> {
    return this.deps.store.transaction(async () => {
      if (r.alarm) {
        const existing = await this.rows.forAlarm(r.alarm.name, r.alarm.firedAt);
        if (existing) throw new GoliveError('usage', existing.state === 'declaring' ? `An incident for this alarm is being declared right now (INC-${existing.id}).` : `This alarm already has incident INC-${existing.id} in <#${existing.channel_id}>.`);
      }
      const id = await this.rows.reserve({ severity: r.key, summary: r.summary, services: r.services, commander: r.commander, declaredBy: r.declaredBy, at: r.at, placeholderChannel: `pending:${r.at}:${Math.random().toString(36).slice(2)}`, alarm: r.alarm, stormRule: r.stormRule });
      // Only the alarm's unique indexes can refuse it (another process declared for the same firing a moment ago).
      if (id === undefined) throw new GoliveError('usage', 'This alarm already has an incident (declared a moment ago).');
      return id;
    });
  }

  /**
   * Where the incident's page lives in PagerDuty. An incident opened for an
   * alarm takes over the alarm's alert (same dedup key): one event is one
   * PagerDuty incident, and resolving either the alarm or the incident resolves it.
   */
  private async pageKey(incident: IncidentRow): Promise<{ dedupKey: string; alarmPages: boolean }> {
    if (incident.alarm_name && this.deps.alarmPage) {
      const p = await this.deps.alarmPage(incident.alarm_name);
      return { dedupKey: p.dedupKey, alarmPages: p.rulePages };
    }
    return { dedupKey: incidentDedupKey(incident.id), alarmPages: false };
  }

  private async sendPageAction(incident: IncidentRow, action: 'acknowledge' | 'resolve', at: string): Promise<void> {
    const { dedupKey } = await this.pageKey(incident);
    await (action === 'acknowledge' ? this.pages.acknowledge(dedupKey, at) : this.pages.resolve(dedupKey, at));
  }

  /** Queues the incident's page (once per trigger; resolve follows paged_at, not the severity). */
  private async page(incident: IncidentRow, at: string, why = ''): Promise<void> {
    const key = incident.severity;
    await this.pages.trigger(
      {
        dedupKey: (await this.pageKey(incident)).dedupKey,
        summary: `INC-${incident.id} ${key}${why}: ${incident.summary}`.slice(0, 1024),
        source: this.deps.runbook.pagerduty?.source ?? 'golive',
        severity: pagerSeverityOf(key),
        class: 'incident',
        customDetails: { incident: `INC-${incident.id}`, severity: key, summary: incident.summary, commander: incident.commander, channel: incident.channel_name, launch: this.deps.runbook.launch.name },
      },
      at,
    );
    await this.rows.markPaged(incident.id, at);
    await this.event(incident.id, 'paged', 'golive', { severity: key, why: why.trim() }, at);
  }

  /** Escalation (unless acknowledged) and the rollback prompt, as the severity says. */
  private async planEscalation(id: number, def: NonNullable<NonNullable<Runbook['incidents']>['severities']['P1']>, from: Date): Promise<void> {
    const at = from.toISOString();
    await this.cancel(id, 'escalation', at);
    await this.cancel(id, 'rollback_prompt', at);
    const row = await this.get(id);
    // An escalation matrix (src/escalation/) replaces the one built-in step.
    if (!row.acked_by && def.escalation.length === 0 && (def.escalate_to.length > 0 || (!def.page && this.deps.canPage))) {
      await this.schedule(id, 'escalation', new Date(from.getTime() + Math.max(def.response_minutes, MIN_ESCALATION_MINUTES) * 60_000));
    }
    if (def.rollback_prompt_minutes && !row.root_cause) await this.schedule(id, 'rollback_prompt', new Date(Date.parse(row.declared_at) + def.rollback_prompt_minutes * 60_000));
  }

  /** Adds the PagerDuty on-call (by email → Slack user) when the runbook names an escalation policy and REST access is configured. */
  private async addOnCall(invitees: Set<string>): Promise<{ user: string; error: string }[]> {
    const policy = this.deps.runbook.pagerduty?.escalation_policy;
    if (!policy || !this.deps.onCall) return [];
    try {
      const emails = await this.deps.onCall.emails(policy);
      const problems: { user: string; error: string }[] = [];
      for (const email of emails) {
        const user = await this.deps.slack.userByEmail(email);
        if (user) invitees.add(user);
        else problems.push({ user: '*', error: `the on-call ${escapeText(email)} has no Slack account with that email` });
      }
      return problems;
    } catch (err) {
      this.deps.logger.warn({ err }, 'PagerDuty on-call lookup failed');
      return [{ user: '*', error: `the PagerDuty on-call lookup failed (${escapeText((err as Error).message)})` }];
    }
  }

  /** Whether golive declared an incident in this channel. */
  async isIncidentChannel(channelId: string): Promise<boolean> {
    return (await this.rows.inChannel(channelId)) !== undefined;
  }

  /** The open incident whose channel this is. */
  async inChannel(channelId: string): Promise<IncidentRow> {
    const row = await this.rows.inChannel(channelId);
    if (!row) throw new GoliveError('usage', 'This is not an incident channel.', 'Run it in the incident’s own channel (`inc-…`), where golive posted the initial message.');
    return row;
  }

  async update(incident: IncidentRow, text: string | { status: string; actions?: string; next_steps?: string; eta?: string }, userId: string): Promise<IncidentRow> {
    if (incident.state !== 'open') throw new GoliveError('usage', `INC-${incident.id} is already resolved.`);
    const fields = typeof text === 'string' ? { status: text } : text;
    const status = fields.status.trim();
    if (!status) throw new GoliveError('usage', 'An update needs some text: the current status.', 'Usage: `/golive incident update <text>`');
    const { store, clock } = this.deps;
    const now = clock.now();
    const at = now.toISOString();
    const row = await store.transaction(async () => {
      const current = await this.get(incident.id);
      if (current.state !== 'open') throw new GoliveError('usage', `INC-${incident.id} is already resolved.`);
      const n = current.updates + 1;
      await this.rows.recordUpdate(incident.id, n, at);
      await this.event(incident.id, 'update', userId, { n, status }, at);
      await this.audit.record({ actor: userId, action: 'incident.update', target: `INC-${incident.id}`, detail: { n, status }, source: 'command', channel: incident.channel_id }, at);
      const updated = await this.get(incident.id);
      const body = fillTemplate(this.template('update'), {
        id: `INC-${incident.id}`,
        n: String(n),
        time: this.time(at),
        status: escapeText(status),
        actions: escapeText(fields.actions?.trim() || '—'),
        next_steps: escapeText(fields.next_steps?.trim() || '—'),
        eta: escapeText(fields.eta?.trim() || '—'),
        severity: updated.severity,
        summary: escapeText(updated.summary),
        commander: `<@${updated.commander}>`,
      });
      await this.notifier?.updated(updated, body, `📝 INC-${incident.id} update #${n} by <@${userId}>: ${escapeText(status.slice(0, 200))}`);
      // The cadence restarts from this update; pending reminders for the old due time are void.
      await this.cancel(incident.id, 'update', at);
      const cadence = this.deps.runbook.incidents?.severities[updated.severity]?.update_every_minutes;
      if (cadence) await this.schedule(incident.id, 'update', new Date(now.getTime() + cadence * 60_000));
      return updated;
    });
    this.deps.afterCommit();
    return row;
  }

  /** Resolves with "<root cause> | <resolution>" typed as one text (the part after | is optional), or the two fields of the modal. */
  async resolve(incident: IncidentRow, text: string | { rootCause: string; resolution?: string }, userId: string): Promise<IncidentRow> {
    if (incident.state !== 'open') throw new GoliveError('usage', `INC-${incident.id} was already resolved by <@${incident.resolved_by}>.`);
    const [typedCause = '', ...rest] = typeof text === 'string' ? text.split('|') : [];
    const rootCause = typeof text === 'string' ? typedCause : text.rootCause;
    if (!rootCause.trim()) throw new GoliveError('usage', 'Resolving needs the root cause.', 'Usage: `/golive incident resolve <root cause> [| <resolution>]`');
    const resolution = (typeof text === 'string' ? rest.join('|') : (text.resolution ?? '')).trim() || '—';
    const { store, clock, runbook } = this.deps;
    const now = clock.now();
    const at = now.toISOString();
    const row = await store.transaction(async () => {
      if (!(await this.rows.resolve(incident.id, userId, at, rootCause.trim(), resolution))) throw new GoliveError('usage', `INC-${incident.id} was already resolved.`);
      const resolved = await this.get(incident.id);
      const duration = humanDuration(now.getTime() - Date.parse(resolved.declared_at));
      await this.event(incident.id, 'resolved', userId, { root_cause: rootCause.trim(), resolution, duration }, at);
      await this.audit.record({ actor: userId, action: 'incident.resolve', target: `INC-${incident.id}`, detail: { root_cause: rootCause.trim(), duration }, source: 'command', channel: incident.channel_id }, at);
      const hours = runbook.incidents?.postmortem_hours ?? 48;
      const body = fillTemplate(this.template('resolved'), {
        id: `INC-${incident.id}`,
        resolved_at: this.time(at),
        root_cause: escapeText(rootCause.trim()),
        resolution: escapeText(resolution),
        duration,
        severity: resolved.severity,
        summary: escapeText(resolved.summary),
        commander: `<@${resolved.commander}>`,
        postmortem_hours: String(hours),
      });
      await this.notifier?.resolved(resolved, body);
      if (resolved.paged_at) await this.sendPageAction(resolved, 'resolve', at);
      for (const kind of ['update', 'escalation', 'rollback_prompt'] as const) await this.cancel(incident.id, kind, at);
      await this.schedule(incident.id, 'postmortem', new Date(now.getTime() + hours * 3600_000));
      await this.drafts?.queue(resolved, userId, at);
      return resolved;
    });
    this.deps.afterCommit();
    // Whoever opens the channel later sees from its topic that it is over.
    await this.setTopic(row);
    return row;
  }

  /** Sends every reminder that is due, each once; an update reminder schedules the next one. */
  async runDueReminders(): Promise<number> {
    const { store, clock } = this.deps;
    const now = clock.now();
    const at = now.toISOString();
    const due = await this.rows.dueReminders(at);
    let sent = 0;
    for (const r of due) {
      const done = await store.transaction(async () => {
        if (!(await this.rows.claimReminder(r.id, at))) return false;
        const incident = await this.get(r.incident_id);
        if (r.kind !== 'postmortem' && incident.state !== 'open') return false;
        if (r.kind === 'escalation') return this.escalate(incident, at);
        if (r.kind === 'rollback_prompt') return this.promptRollback(incident, at);
        await this.event(incident.id, `reminder.${r.kind}`, 'golive', { due_at: r.due_at }, at);
        await this.notifier?.reminder(incident, r.kind, incident.last_update_at);
        if (r.kind === 'update') {
          const cadence = this.deps.runbook.incidents?.severities[incident.severity]?.update_every_minutes;
          if (cadence) {
            // The next due time on the original grid after now: a late process neither bursts nor repeats at once.
            const step = cadence * 60_000;
            const due = Date.parse(r.due_at);
            const next = due + Math.max(1, Math.ceil((now.getTime() - due + 1) / step)) * step;
            await this.schedule(incident.id, 'update', new Date(next));
          }
        }
        return true;
      });
      if (done) sent++;
    }
    if (sent > 0) this.deps.afterCommit();
    return sent;
  }

  /** The Acknowledge button on the initial post: someone is on it, so no escalation. */
  async acknowledge(id: number, userId: string): Promise<{ ok: boolean; incident: IncidentRow }> {
    const { store, clock } = this.deps;
    const at = clock.now().toISOString();
    const result = await store.transaction(async () => {
      const ok = await this.rows.acknowledge(id, userId, at);
      const incident = await this.get(id);
      if (ok) {
        await this.event(id, 'acknowledged', userId, {}, at);
        await this.audit.record({ actor: userId, action: 'incident.acknowledge', target: `INC-${id}`, detail: {}, source: 'button', channel: incident.channel_id }, at);
        await this.cancel(id, 'escalation', at);
        await this.notifier?.acknowledged(incident);
        if (incident.paged_at) await this.sendPageAction(incident, 'acknowledge', at);
      }
      return { ok, incident };
    });
    if (result.ok) this.deps.afterCommit();
    return result;
  }

  /** `/golive incident severity <P1-P4>`: re-grades the incident; paging, reminders, escalation, invites and the topic follow. */
  async changeSeverity(incident: IncidentRow, severity: string, userId: string): Promise<IncidentRow> {
    // A re-grade can start or resolve a page: not for anyone who can read the channel.
    if (!(await this.deps.roles.isNamed(userId))) {
      throw new GoliveError('not_permitted', `Only people named in one of the runbook’s roles may change INC-${incident.id}’s severity: it decides who is paged.`, /^[UW][A-Z0-9]+$/.test(incident.commander) ? `Ask the commander, <@${incident.commander}>.` : 'Ask the commander.');
    }
    const { key, def } = this.severity(severity);
    if (incident.state !== 'open') throw new GoliveError('usage', `INC-${incident.id} is resolved.`);
    if (key === incident.severity) throw new GoliveError('usage', `INC-${incident.id} is already ${key}; nothing changed.`);
    const { store, clock } = this.deps;
    const now = clock.now();
    const at = now.toISOString();
    const row = await store.transaction(async () => {
      await this.rows.setSeverity(incident.id, key);
      await this.event(incident.id, 'severity', userId, { from: incident.severity, to: key }, at);
      await this.audit.record({ actor: userId, action: 'incident.severity', target: `INC-${incident.id}`, detail: { from: incident.severity, to: key }, source: 'command', channel: incident.channel_id }, at);
      let updated = await this.get(incident.id);
      if (def.page && !updated.paged_at) await this.page(updated, at);
      if (!def.page && updated.paged_at && !updated.escalated_at) {
        // Downgraded below paging: the page goes too, unless it is also the alarm's own page (that one ends when the alarm recovers).
        if (!(await this.pageKey(updated)).alarmPages) await this.sendPageAction(updated, 'resolve', at);
        await this.rows.clearPaged(incident.id);
      }
      await this.cancel(incident.id, 'update', at);
      if (def.update_every_minutes) await this.schedule(incident.id, 'update', new Date(now.getTime() + def.update_every_minutes * 60_000));
      await this.planEscalation(incident.id, def, now);
      updated = await this.get(incident.id);
      await this.notifier?.changed(updated, `severity ${incident.severity} → ${escapeText(severityLabel(key, def.name))}, by <@${userId}>`);
      return updated;
    });
    this.deps.afterCommit();
    await this.refreshChannel(row, def.invite);
    return row;
  }

  /** `/golive incident commander @user`: hands the incident over (invited, named in the topic). */
  async changeCommander(incident: IncidentRow, commander: string, userId: string): Promise<IncidentRow> {
    if (incident.state !== 'open') throw new GoliveError('usage', `INC-${incident.id} is resolved.`);
    const { store, clock } = this.deps;
    const at = clock.now().toISOString();
    const row = await store.transaction(async () => {
      await this.rows.setCommander(incident.id, commander);
      await this.event(incident.id, 'commander', userId, { from: incident.commander, to: commander }, at);
      await this.audit.record({ actor: userId, action: 'incident.commander', target: `INC-${incident.id}`, detail: { from: incident.commander, to: commander }, source: 'command', channel: incident.channel_id }, at);
      const updated = await this.get(incident.id);
      await this.notifier?.changed(updated, `commander is now <@${commander}> (was <@${incident.commander}>), set by <@${userId}>`);
      return updated;
    });
    this.deps.afterCommit();
    await this.refreshChannel(row, []);
    return row;
  }

  /** Invites the commander and the roles, and rewrites the topic; best effort, after the change is recorded. */
  private async refreshChannel(incident: IncidentRow, roles: string[]): Promise<void> {
    const users = new Set([incident.commander]);
    for (const r of roles) for (const u of (await this.deps.roles.members(r).catch(() => ({ users: [] as string[] }))).users) users.add(u);
    await this.deps.slack.invite(incident.channel_id, [...users]).catch((err: unknown) => this.deps.logger.warn({ err }, 'could not invite to the incident channel'));
    await this.setTopic(incident);
  }

  /** Rewrites the incident channel's topic from the incident as it is now; best effort. */
  private async setTopic(incident: IncidentRow): Promise<void> {
    const def = this.deps.runbook.incidents?.severities[incident.severity];
    const topic = channelTopic(incident.severity, def?.name, incident.summary, incident.commander, incident.resolved_at ? this.time(incident.resolved_at) : undefined);
    await this.deps.slack.setTopic(incident.channel_id, topic).catch((err: unknown) => this.deps.logger.warn({ err }, 'could not set the incident channel topic'));
  }

  /** `/golive incident rootcause <text>`: records the root cause before resolving (and stops the rollback prompt). */
  async recordRootCause(incident: IncidentRow, text: string, userId: string): Promise<IncidentRow> {
    if (incident.state !== 'open') throw new GoliveError('usage', `INC-${incident.id} is resolved.`);
    const cause = text.trim();
    if (!cause) throw new GoliveError('usage', 'Give the root cause: `/golive incident rootcause <text>`.');
    const { store, clock } = this.deps;
    const at = clock.now().toISOString();
    const row = await store.transaction(async () => {
      await this.rows.setRootCause(incident.id, cause);
      await this.event(incident.id, 'root_cause', userId, { root_cause: cause }, at);
      await this.audit.record({ actor: userId, action: 'incident.root_cause', target: `INC-${incident.id}`, detail: { root_cause: cause }, source: 'command', channel: incident.channel_id }, at);
      await this.cancel(incident.id, 'rollback_prompt', at);
      const updated = await this.get(incident.id);
      await this.notifier?.changed(updated, `root cause recorded by <@${userId}>: ${escapeText(cause.slice(0, 300))}`);
      return updated;
    });
    this.deps.afterCommit();
    return row;
  }

  /**
   * Everything that happened, in time order: the incident's own events, the
   * messages people added (📌 or the shortcut), the deploys and rollbacks
   * started from an hour before it was declared until it was resolved, and,
   * for an alarm-declared one, its alarm's transitions.
   */
  async timeline(incident: IncidentRow): Promise<IncidentEvent[]> {
    const events = await this.rows.events(incident.id);
    const until = incident.resolved_at ?? '9999';
    if (incident.alarm_name && this.deps.alarmTransitions) {
      const transitions = await this.deps.alarmTransitions(incident.alarm_name, incident.alarm_fired_at ?? incident.declared_at, until);
      for (const t of transitions) events.push({ id: -t.id, at: t.at, kind: 'alarm', actor: 'cloudwatch', detail: { alarm: incident.alarm_name, from: t.from_state, to: t.to_state, reason: t.reason } });
    }
    for (const p of await this.pins.pins(incident.id)) {
      events.push({ id: 0, at: p.written_at, kind: 'pinned', actor: p.author ?? `app:${p.author_name ?? 'an app'}`, detail: { text: p.text, ts: p.message_ts, pinned_by: p.pinned_by, via: p.via } });
    }
    if (this.deps.changesBetween) {
      const from = new Date(Date.parse(incident.declared_at) - CHANGES_BEFORE_MS).toISOString();
      for (const c of await this.deps.changesBetween(from, until)) {
        events.push({ id: 0, at: c.startedAt, kind: 'deploy', actor: c.requestedBy, detail: { deploy: c.id, kind: c.kind, service: c.service, from: c.from, to: c.to, outcome: c.outcome } });
      }
    }
    return events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }

  /**
   * Adds a message of the incident channel to its timeline: its author, when
   * it was written, its text. Once per message, however it is added (📌 twice,
   * then the shortcut); returns whether this call added it.
   */
  async pin(input: { channelId: string; ts: string; author: string | null; authorName: string | null; text: string; pinnedBy: string; via: 'reaction' | 'shortcut' }): Promise<{ added: boolean; incident: IncidentRow }> {
    const incident = await this.inChannel(input.channelId);
    const at = this.deps.clock.now().toISOString();
    const writtenAt = new Date(Math.floor(Number(input.ts) * 1000)).toISOString();
    const text = input.text.trim().slice(0, MAX_PIN_TEXT) || '(no text)';
    const added = await this.deps.store.transaction(async () => {
      const pinned = await this.pins.add({ incident_id: incident.id, message_ts: input.ts, author: input.author, author_name: input.authorName, text, written_at: writtenAt, pinned_by: input.pinnedBy, pinned_at: at, via: input.via });
      if (pinned) await this.audit.record({ actor: input.pinnedBy, action: 'incident.pin', target: `INC-${incident.id}`, detail: { ts: input.ts, author: input.author, via: input.via }, source: input.via === 'reaction' ? 'system' : 'button', channel: incident.channel_id }, at);
      return pinned;
    });
    return { added, incident };
  }

  /** Every declared incident, oldest first (the launch report). */
  all(): Promise<IncidentRow[]> {
    return this.rows.all();
  }

  async get(id: number): Promise<IncidentRow> {
    const row = await this.rows.incident(id);
    if (!row) throw new GoliveError('usage', `There is no incident INC-${id}.`);
    return row;
  }

  /** Declared incidents of these severities since `since`, oldest first (go/no-go's `no_incidents`). */
  async declaredSince(severities: readonly Severity[], since: string): Promise<Pick<IncidentRow, 'id' | 'severity' | 'declared_at'>[]> {
    return this.rows.declaredSince(severities, since);
  }

  async open(): Promise<IncidentRow[]> {
    return this.rows.open();
  }

  /** Adds a line to the incident's timeline for another feature (an escalation level decided); database work only. */
  async recordEvent(id: number, kind: string, detail: Record<string, unknown>, at: string): Promise<void> {
    await this.event(id, kind, 'golive', detail, at);
  }

  /** Nobody acknowledged within the response time: page (if not already) and mention the escalation roles. */
  private async escalate(incident: IncidentRow, at: string): Promise<boolean> {
    const { runbook } = this.deps;
    if (incident.acked_by) return false;
    const def = runbook.incidents?.severities[incident.severity];
    if (!def) return false;
    await this.rows.markEscalated(incident.id, at);
    await this.event(incident.id, 'escalated', 'golive', { roles: def.escalate_to }, at);
    await this.audit.record({ actor: 'golive', action: 'incident.escalate', target: `INC-${incident.id}`, detail: { roles: def.escalate_to }, source: 'system', channel: incident.channel_id }, at);
    const paged = !incident.paged_at && this.deps.canPage;
    if (paged) await this.page(incident, at, ' not acknowledged');
    // Group-only roles are mentioned by their user group, so nobody in them is left out.
    const roles = def.escalate_to.map((r) => ({ name: runbook.roles[r]?.name ?? r, users: [...(runbook.roles[r]?.users ?? []).map((u) => `<@${u}>`), ...(runbook.roles[r]?.groups ?? []).map((g) => `<!subteam^${g}>`)] }));
    await this.notifier?.escalated((await this.get(incident.id)), roles, Math.max(def.response_minutes, MIN_ESCALATION_MINUTES), paged);
    return true;
  }

  /** Seed 000: a P1 with no root cause after N minutes gets a "Roll back now?" prompt for the service last deployed. */
  private async promptRollback(incident: IncidentRow, at: string): Promise<boolean> {
    if (incident.root_cause) return false;
    const last = await this.deps.lastDeployedService?.();
    const service = last ?? this.deps.runbook.services[0]?.name ?? null;
    const minutes = this.deps.runbook.incidents?.severities[incident.severity]?.rollback_prompt_minutes ?? 15;
    await this.event(incident.id, 'rollback_prompt', 'golive', { service }, at);
    await this.notifier?.rollbackPrompt(incident, service, minutes);
    return true;
  }

  private async createChannel(severity: Severity, summary: string, now: Date, id: number): Promise<{ id: string; name: string }> {
    const pattern = this.deps.runbook.incidents?.channel_pattern ?? 'inc-{{date}}-{{slug}}';
    const base = fillTemplate(pattern, { date: ymd(now, this.deps.runbook.launch.timezone), slug: slugify(summary), severity: severity.toLowerCase(), id: String(id) })
      .toLowerCase()
      .slice(0, 80)
      .replace(/-+$/, '');
    for (let n = 1; n <= 20; n++) {
      const suffix = n === 1 ? '' : `-${n}`;
      const name = `${base.slice(0, 80 - suffix.length)}${suffix}`;
      try {
        // After a lost answer, a channel another incident already has is not the one this call made.
        return await this.deps.slack.createChannel(name, async (channelId) => (await this.rows.inChannel(channelId)) === undefined);
      } catch (err) {
        if (err instanceof SlackCallError && err.slackError === 'name_taken') continue;
        throw new GoliveError('slack_unavailable', `Slack would not create the incident channel #${name} (${err instanceof SlackCallError ? err.slackError : (err as Error).message}). No incident was declared.`, 'The bot needs the channels:manage scope; try again, or declare with a different summary.');
      }
    }
    throw new GoliveError('slack_unavailable', `Every channel name from #${base} to #${base}-20 is taken. No incident was declared.`, 'Declare with a different summary.');
  }

  private async schedule(incidentId: number, kind: ReminderKind, due: Date): Promise<void> {
    await this.rows.schedule(incidentId, kind, due.toISOString());
  }

  private async cancel(incidentId: number, kind: ReminderKind, at: string): Promise<void> {
    await this.rows.cancelReminders(incidentId, kind, at);
  }

  private async event(incidentId: number, kind: string, actor: string, detail: Record<string, unknown>, at: string): Promise<void> {
    await this.rows.addEvent(incidentId, kind, actor, detail, at);
  }

  private time(iso: string): string {
    return formatTime(iso, this.deps.runbook.launch.timezone);
  }
}
