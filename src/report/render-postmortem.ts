import { toHtml, toMarkdown, type Block, type Doc } from './document.js';
import type { PostmortemDraft } from './launch-report.js';
import { between, dayAndTime, personName } from './report-text.js';

/** The post-mortem draft (seed 004: "post-mortem within 48 hours" with lessons learned) as a document. */
export function postmortemDocument(d: PostmortemDraft): Doc {
  const tz = d.launch.timezone;
  const i = d.incident;
  const t = (iso: string | null) => (iso ? dayAndTime(iso, tz) : '—');
  const who = (id: string | null) => (!id ? '—' : id.startsWith('app:') ? id.slice(4) : personName(d.people, id));
  const title = `Post-mortem draft — INC-${i.id} ${i.severity}: ${i.summary}`;
  const blocks: Block[] = [
    { type: 'heading', level: 1, text: title },
    { type: 'paragraph', text: `${d.launch.name}. Drafted by golive ${t(d.generatedAt)} from the incident's record; times in ${tz}. Edit it: the lessons and follow-ups are yours to write.` },
    { type: 'heading', level: 2, text: 'Summary', id: 'summary' },
    {
      type: 'list',
      items: [
        `What: ${i.summary}`,
        `Severity: ${i.severity}`,
        `Commander: ${who(i.commander)}${i.declaredBy !== i.commander ? ` (declared by ${who(i.declaredBy)})` : ''}`,
        `Declared ${t(i.declaredAt)}, ${i.resolvedAt ? `resolved ${t(i.resolvedAt)} by ${who(i.resolvedBy)}` : 'still open'}`,
        `Incident channel: #${i.channel}`,
        ...(i.alarm ? [`Opened for the alarm ${i.alarm}`] : []),
      ],
    },
    { type: 'heading', level: 2, text: 'Impact', id: 'impact' },
    {
      type: 'list',
      items: [
        `Affected services: ${i.services || 'not recorded'}`,
        `Duration: ${i.resolvedAt ? between(i.declaredAt, i.resolvedAt) : `${between(i.declaredAt, d.generatedAt)} so far`}`,
        `Time to acknowledge: ${i.ackedAt ? `${between(i.declaredAt, i.ackedAt)} (${who(i.ackedBy)})` : 'never acknowledged'}`,
        `Status updates posted: ${i.updates}`,
        'Customer impact: (describe who was affected and how)',
      ],
    },
    { type: 'heading', level: 2, text: 'Timeline', id: 'timeline' },
    d.timeline.length === 0 ? { type: 'paragraph', text: 'Nothing was recorded.' } : { type: 'table', head: ['Time', 'Who', 'What'], rows: d.timeline.map((e) => [t(e.at), who(e.who), e.what]) },
    { type: 'heading', level: 2, text: 'Root cause', id: 'root-cause' },
    { type: 'paragraph', text: i.rootCause ?? 'Not recorded yet.' },
    { type: 'heading', level: 2, text: 'Resolution', id: 'resolution' },
    { type: 'paragraph', text: i.resolution && i.resolution !== '—' ? i.resolution : 'Not recorded.' },
    { type: 'heading', level: 2, text: 'Deploys and alarms around it', id: 'around' },
    d.changes.length === 0
      ? { type: 'paragraph', text: 'No deploy or rollback from an hour before it until it was resolved.' }
      : { type: 'table', head: ['Started', 'What', 'Service', 'From → to', 'Asked by', 'Approved by', 'Outcome'], rows: d.changes.map((c) => [t(c.startedAt), c.kind, c.service, `${c.from ?? '?'} → ${c.to}`, who(c.requestedBy), c.approvedBy.map(who).join(', ') || '—', c.outcome]) },
    d.alarms.length === 0
      ? { type: 'paragraph', text: 'No watched alarm fired in that window.' }
      : { type: 'table', head: ['Alarm', 'Fired', 'Recovered', 'Fired for'], rows: d.alarms.flatMap((a) => a.firings.map((f) => [a.name, t(f.firedAt), f.recoveredAt ? t(f.recoveredAt) : 'still firing', f.recoveredAt ? between(f.firedAt, f.recoveredAt) : '—'])) },
    { type: 'heading', level: 2, text: 'What was paged, and when', id: 'pages' },
    d.pages.length === 0 ? { type: 'paragraph', text: 'Nothing was paged.' } : { type: 'table', head: ['Time', 'Page'], rows: d.pages.map((p) => [t(p.at), p.what]) },
    { type: 'heading', level: 2, text: 'Lessons learned', id: 'lessons' },
    { type: 'list', items: ['What went well: ', 'What went wrong: ', 'Where we got lucky: '] },
    { type: 'heading', level: 2, text: 'Follow-ups', id: 'follow-ups' },
    { type: 'table', head: ['Action', 'Owner', 'Due'], rows: [['', '', '']] },
  ];
  return { title, blocks };
}

export function renderPostmortemMarkdown(d: PostmortemDraft): string {
  return toMarkdown(postmortemDocument(d));
}

export function renderPostmortemHtml(d: PostmortemDraft): string {
  return toHtml(postmortemDocument(d));
}
