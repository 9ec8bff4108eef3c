import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../platform/clock.js';
import type { Outbox } from '../platform/outbox/outbox.js';
import type { RoleDirectory } from '../platform/roles/resolve-roles.js';
import { AuditRepository } from '../platform/store/audit-repository.js';
import type { Store } from '../platform/store/store.js';
import { GoliveError } from '../platform/errors.js';
import { describeIncidentEvent, type EventWriter, type IncidentEvent, type IncidentRow, type PostmortemDrafts } from '../incidents/index.js';
import { firingsOf, gatherReport, namePeople, type ReportSources } from './gather-report.js';
import type { LaunchReport, PostmortemDraft } from './launch-report.js';
import { personName, revisionName } from './report-text.js';

/** Deploys this long before an incident's declaration belong in its post-mortem, as on its timeline. */
const AROUND_MS = 60 * 60_000;

/**
 * The launch report and the post-mortem drafts: gathered from every
 * feature's records, queued for Slack as files (through the outbox, so a Slack
 * outage delays them but does not lose them; share-documents.ts renders and
 * shares them), and the link whose token is the only key to the report pages
 * (serve-report-pages.ts).
 */
export class ReportService implements PostmortemDrafts {
  private readonly audit: AuditRepository;
  private token?: string;

  constructor(
    private readonly deps: {
      store: Store;
      outbox: Outbox;
      clock: Clock;
      roles: RoleDirectory;
      sources: ReportSources;
      incidents: { get(id: number): Promise<IncidentRow>; timeline(incident: IncidentRow): Promise<IncidentEvent[]> };
      /** golive's public base URL (GOLIVE_PUBLIC_URL); without it no link is given, the files are still posted. */
      publicUrl?: string;
      links: { current(): Promise<string | undefined>; isLive(token: string): Promise<boolean>; replace(token: string, by: string, at: string): Promise<void> };
    },
  ) {
    this.audit = new AuditRepository(deps.store);
  }

  /** Loads the report link's token, making the first one. */
  async start(): Promise<void> {
    this.token = (await this.deps.links.current()) ?? (await this.newToken('golive'));
  }

  /** Resolves once the link is loaded (the outbox may deliver before the start job ran). */
  async ready(): Promise<void> {
    if (!this.token) await this.start();
  }

  /** The post-mortem draft's page, for the reminder that it is due. */
  link(incidentId: number): string | undefined {
    return this.url(`INC-${incidentId}-postmortem.html`);
  }

  private async newToken(by: string): Promise<string> {
    const token = randomBytes(24).toString('base64url');
    await this.deps.links.replace(token, by, this.deps.clock.now().toISOString());
    this.token = token;
    return token;
  }

  /** The report page's address (or one of its files), when golive knows its public URL. */
  url(file = ''): string | undefined {
    if (!this.deps.publicUrl || !this.token) return undefined;
    return `${this.deps.publicUrl.replace(/\/+$/, '')}/reports/${this.token}${file ? `/${file}` : ''}`;
  }

  /** A new link; the old one stops working at once. Only people the runbook names may do it. */
  async newLink(userId: string): Promise<string | undefined> {
    if (!(await this.deps.roles.isNamed(userId))) throw new GoliveError('not_permitted', 'Only people the runbook names in a role can replace the report link.');
    await this.newToken(userId);
    await this.audit.record({ actor: userId, action: 'report.link', target: 'launch', detail: {}, source: 'command' }, this.deps.clock.now().toISOString());
    return this.url();
  }

  async launchReport(by: string): Promise<LaunchReport> {
    return gatherReport(this.deps.sources, { now: this.deps.clock.now(), by });
  }

  /** Queues the launch report for the channel: rendered and shared by the outbox, retried if Slack is away. */
  async queueLaunchReport(userId: string, channel: string): Promise<void> {
    const at = this.deps.clock.now().toISOString();
    await this.deps.store.transaction(async () => {
      await this.deps.outbox.enqueue('launch', { by: userId, channel }, at, { target: 'document' });
      await this.audit.record({ actor: userId, action: 'report.posted', target: 'launch', detail: { kind: 'launch', channel }, source: 'command', channel }, at);
    });
    void this.deps.outbox.flush();
  }

  /** Queues an incident's post-mortem draft for its channel. Called inside the resolving transaction, or by `/golive incident postmortem`. */
  async queue(incident: IncidentRow, by: string, at: string): Promise<void> {
    await this.deps.outbox.enqueue('postmortem', { by, incident: incident.id, channel: incident.channel_id }, at, { target: 'document' });
  }

  /** `/golive incident postmortem`: the draft again, as the incident's record stands now. */
  async regenerate(incident: IncidentRow, userId: string): Promise<void> {
    const at = this.deps.clock.now().toISOString();
    await this.deps.store.transaction(async () => {
      await this.queue(incident, userId, at);
      await this.audit.record({ actor: userId, action: 'report.posted', target: `INC-${incident.id}`, detail: { kind: 'postmortem' }, source: 'command', channel: incident.channel_id }, at);
    });
    void this.deps.outbox.flush();
  }

  /** The post-mortem draft's facts for one incident. */
  async postmortemDraft(incidentId: number): Promise<PostmortemDraft> {
    const incident = await this.deps.incidents.get(incidentId);
    const now = this.deps.clock.now();
    const tz = this.deps.sources.runbook.launch.timezone;
    const from = Date.parse(incident.declared_at) - AROUND_MS;
    const until = incident.resolved_at ? Date.parse(incident.resolved_at) : now.getTime();
    const within = (iso: string) => Date.parse(iso) >= from && Date.parse(iso) <= until;
    const [events, changes, transitions, pages] = await Promise.all([this.deps.incidents.timeline(incident), this.deps.sources.changes(), this.deps.sources.alarmTransitions(), this.deps.sources.pagerTriggers()]);
    const alarms = firingsOf(transitions, pages, (name) => ({ severity: this.deps.sources.alarmSeverity(name) }))
      .map((a) => ({ ...a, firings: a.firings.filter((f) => within(f.firedAt) || (f.recoveredAt ? within(f.recoveredAt) : f.firedAt <= new Date(until).toISOString())) }))
      .filter((a) => a.firings.length > 0);
    const draft: PostmortemDraft = {
      launch: { name: this.deps.sources.runbook.launch.name, timezone: tz },
      generatedAt: now.toISOString(),
      people: {},
      incident: {
        id: incident.id,
        severity: incident.severity,
        summary: incident.summary,
        commander: incident.commander,
        declaredBy: incident.declared_by,
        declaredAt: incident.declared_at,
        channel: incident.channel_name,
        ackedBy: incident.acked_by,
        ackedAt: incident.acked_at,
        resolvedAt: incident.resolved_at,
        resolvedBy: incident.resolved_by,
        rootCause: incident.root_cause,
        resolution: incident.resolution,
        pagedAt: incident.paged_at,
        alarm: incident.alarm_name,
        services: incident.services,
        updates: incident.updates,
      },
      timeline: [],
      changes: changes.filter((c) => within(c.startedAt)).map((c) => ({ ...c, from: revisionName(c.from), to: revisionName(c.to) ?? c.to })),
      alarms,
      pages: [
        ...events.filter((e) => e.kind === 'paged').map((e) => ({ at: e.at, what: `INC-${incident.id} ${String(e.detail.severity ?? incident.severity)}${e.detail.why ? ` (${String(e.detail.why)})` : ''}` })),
        ...alarms.flatMap((a) => a.firings.filter((f) => f.pagedAt).map((f) => ({ at: f.pagedAt!, what: `alarm ${a.name}` }))),
      ].sort((a, b) => (a.at < b.at ? -1 : 1)),
    };
    const named = events.flatMap((e) => [e.actor, ...['from', 'to', 'pinned_by'].map((k) => (typeof e.detail[k] === 'string' ? (e.detail[k] as string) : ''))]);
    const ids = new Set<string>([incident.commander, incident.declared_by, incident.acked_by ?? '', incident.resolved_by ?? '', ...named, ...draft.changes.flatMap((c) => [c.requestedBy, ...c.approvedBy])]);
    draft.people = await namePeople(this.deps.sources, [...ids].filter((id) => /^[UW][A-Z0-9]+$/.test(id)));
    // Plain text: the document's writer escapes it once, for Markdown or HTML.
    const plain: EventWriter = { timezone: tz, person: (id) => personName(draft.people, id), typed: (text) => text, code: (text) => text };
    draft.timeline = events.map((e) => ({ at: e.at, who: e.actor, what: describeIncidentEvent(e, plain) }));
    return draft;
  }

  /** Whether a token from a URL is the live one: constant-time against it, so timing tells nothing about it. */
  async isLive(token: string): Promise<boolean> {
    const current = this.token ?? (await this.deps.links.current());
    if (!current) return false;
    const a = Buffer.from(token);
    const b = Buffer.from(current);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return false;
    // Another replica may have replaced it; the database has the last word.
    return this.deps.links.isLive(token);
  }
}
