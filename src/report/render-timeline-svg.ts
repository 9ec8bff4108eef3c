import type { LaunchReport } from './launch-report.js';
import { clockTime, dayAndTime, durationText, personName } from './report-text.js';

/** The four lanes, top to bottom. */
export const LANES = ['milestones', 'deploys', 'alarms', 'incidents'] as const;
export type Lane = (typeof LANES)[number];

const LANE_TITLES: Record<Lane, string> = { milestones: 'Milestones', deploys: 'Deploys', alarms: 'Alarms', incidents: 'Incidents' };

/** The picture's geometry; exported so tests can place an event themselves. */
export const LAYOUT = { width: 1200, left: 130, right: 30, top: 56, laneHeight: 64, bottom: 44 } as const;

/** One thing drawn: a point (milestone) or a span (deploy, firing, incident), with what it says. */
export interface TimelineMark {
  lane: Lane;
  kind: string;
  at: string;
  until: string | null;
  label: string;
  /** Hover text (and the PNG's alt text lines). */
  title: string;
  tone: 'ok' | 'bad' | 'warn' | 'info' | 'muted';
}

/** The time window the picture spans: every event and T-0, with a margin either side. */
export function timelineWindow(report: LaunchReport, marks: TimelineMark[]): { from: number; to: number } {
  const times = marks.flatMap((m) => [Date.parse(m.at), ...(m.until ? [Date.parse(m.until)] : [])]);
  if (report.t0) times.push(Date.parse(report.t0.at));
  if (times.length === 0) {
    const now = Date.parse(report.generatedAt);
    return { from: now - 3600_000, to: now + 3600_000 };
  }
  let from = Math.min(...times);
  let to = Math.max(...times);
  // One event alone still gets an hour around it, or it would sit on the edge of a zero-width window.
  if (to - from < 3600_000) {
    const mid = (from + to) / 2;
    from = mid - 1800_000;
    to = mid + 1800_000;
  }
  const pad = (to - from) * 0.03;
  return { from: from - pad, to: to + pad };
}

/** Every event of the report as a mark in its lane. Spans still open end at the report's time. */
export function timelineMarks(report: LaunchReport): TimelineMark[] {
  const tz = report.launch.timezone;
  const who = (id: string) => personName(report.people, id);
  const marks: TimelineMark[] = [];
  for (const m of report.milestones) {
    if (!m.dueAt) continue;
    const late = m.state === 'posted' && m.lateMs > 0;
    marks.push({
      lane: 'milestones',
      kind: 'milestone',
      at: m.dueAt,
      until: null,
      label: m.title,
      title: `${m.title} (${m.ref}) — ${dayAndTime(m.dueAt, tz)}${m.state === 'posted' ? (late ? `, posted ${durationText(m.lateMs)} late` : ', posted on time') : m.state === 'passed' ? ', passed before T-0 was set' : ', coming'}`,
      tone: m.state === 'coming' ? 'muted' : late ? 'warn' : m.state === 'passed' ? 'muted' : 'ok',
    });
  }
  for (const c of report.changes) {
    const verb = c.kind === 'rollback' ? 'rollback' : 'deploy';
    marks.push({
      lane: 'deploys',
      kind: c.kind,
      at: c.startedAt,
      until: c.finishedAt ?? report.generatedAt,
      label: `${c.service} ${c.to}`,
      title: `${verb} ${c.service} ${c.from ?? '?'} → ${c.to} by ${who(c.requestedBy)} — ${c.outcome} (${dayAndTime(c.startedAt, tz)})`,
      tone: c.outcome === 'failed' ? 'bad' : c.outcome === 'running' ? 'info' : c.kind === 'rollback' ? 'warn' : 'ok',
    });
  }
  for (const a of report.alarms) {
    for (const f of a.firings) {
      marks.push({
        lane: 'alarms',
        kind: 'firing',
        at: f.firedAt,
        until: f.recoveredAt ?? report.generatedAt,
        label: a.name,
        title: `${a.name} in ALARM ${dayAndTime(f.firedAt, tz)}${f.recoveredAt ? ` – ${clockTime(f.recoveredAt, tz)}` : ', still firing'}${f.pagedAt ? ', paged' : ''}`,
        tone: 'bad',
      });
    }
  }
  for (const i of report.incidents) {
    marks.push({
      lane: 'incidents',
      kind: 'incident',
      at: i.declaredAt,
      until: i.resolvedAt ?? report.generatedAt,
      label: `INC-${i.id} ${i.severity}`,
      title: `INC-${i.id} ${i.severity} ${i.summary} — declared ${dayAndTime(i.declaredAt, tz)}${i.resolvedAt ? `, resolved ${clockTime(i.resolvedAt, tz)}` : ', open'}`,
      tone: i.resolvedAt ? 'warn' : 'bad',
    });
  }
  return marks;
}

/** The x coordinate of a time in a window, on the picture's plot area. */
export function xOf(atMs: number, window: { from: number; to: number }): number {
  const plot = LAYOUT.width - LAYOUT.left - LAYOUT.right;
  return round(LAYOUT.left + ((atMs - window.from) / (window.to - window.from)) * plot);
}

/** The y coordinate of a lane's middle. */
export function laneMiddle(lane: Lane): number {
  return LAYOUT.top + LANES.indexOf(lane) * LAYOUT.laneHeight + LAYOUT.laneHeight / 2;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** About how wide a character of the 10 px label font is, to keep labels apart. */
const LABEL_CHAR_PX = 6;

/** How far a time zone is ahead of UTC at a moment, in ms. */
function zoneOffsetMs(timeZone: string, atMs: number): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(new Date(atMs));
  const n = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - Math.floor(atMs / 1000) * 1000;
}

/** "1 Dec" in the launch timezone. */
function dayOf(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'short' }).format(new Date(iso));
}

const TICK_STEPS_MIN = [5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080];

const COLOURS: Record<TimelineMark['tone'], string> = { ok: '#2e7d32', bad: '#c62828', warn: '#ef6c00', info: '#1565c0', muted: '#9e9e9e' };

/** Escapes text for SVG/XML content and attribute values. */
export function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * The timeline picture: one lane each for milestones, deploys, alarms and
 * incidents across the launch window, T-0 marked, ticks in the launch
 * timezone. Every mark is a `<g class="mark">` carrying its lane and time,
 * so a reader (or a test) can tell what each one is.
 */
export function renderTimelineSvg(report: LaunchReport): string {
  const marks = timelineMarks(report);
  const window = timelineWindow(report, marks);
  const tz = report.launch.timezone;
  const height = LAYOUT.top + LANES.length * LAYOUT.laneHeight + LAYOUT.bottom;
  const plotRight = LAYOUT.width - LAYOUT.right;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${LAYOUT.width}" height="${height}" viewBox="0 0 ${LAYOUT.width} ${height}" font-family="DejaVu Sans, Verdana, sans-serif" data-from="${new Date(window.from).toISOString()}" data-to="${new Date(window.to).toISOString()}" role="img" aria-labelledby="timeline-title">`,
  );
  out.push(`<title id="timeline-title">${xml(`${report.launch.name}: what happened when`)}</title>`);
  out.push(`<rect x="0" y="0" width="${LAYOUT.width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${LAYOUT.left}" y="24" font-size="16" font-weight="bold" fill="#212121">${xml(report.launch.name)} — timeline</text>`);
  out.push(`<text x="${plotRight}" y="24" font-size="11" fill="#616161" text-anchor="end">${xml(`${dayAndTime(new Date(window.from).toISOString(), tz)} – ${dayAndTime(new Date(window.to).toISOString(), tz)}`)}</text>`);

  LANES.forEach((lane, i) => {
    const y = LAYOUT.top + i * LAYOUT.laneHeight;
    out.push(`<rect x="${LAYOUT.left}" y="${y}" width="${plotRight - LAYOUT.left}" height="${LAYOUT.laneHeight}" fill="${i % 2 ? '#fafafa' : '#f1f3f6'}"/>`);
    out.push(`<text x="${LAYOUT.left - 10}" y="${y + LAYOUT.laneHeight / 2 + 4}" font-size="13" fill="#424242" text-anchor="end">${LANE_TITLES[lane]}</text>`);
  });

  const axisY = LAYOUT.top + LANES.length * LAYOUT.laneHeight;
  const spanMin = (window.to - window.from) / 60_000;
  const stepMin = TICK_STEPS_MIN.find((s) => spanMin / s <= 10) ?? TICK_STEPS_MIN[TICK_STEPS_MIN.length - 1]!;
  const step = stepMin * 60_000;
  // Ticks on whole steps of local time (midnight, the hour, …), not of UTC: Asia/Kolkata is 5:30 off.
  const offset = zoneOffsetMs(tz, window.from);
  const withDate = stepMin >= 360;
  for (let t = Math.ceil((window.from + offset) / step) * step - offset; t <= window.to; t += step) {
    const x = xOf(t, window);
    const iso = new Date(t).toISOString();
    out.push(`<line x1="${x}" y1="${LAYOUT.top}" x2="${x}" y2="${axisY}" stroke="#e0e0e0" stroke-width="1"/>`);
    out.push(`<text x="${x}" y="${axisY + 16}" font-size="10" fill="#616161" text-anchor="middle">${xml(withDate ? `${dayOf(iso, tz)} ${clockTime(iso, tz)}` : clockTime(iso, tz))}</text>`);
  }
  out.push(`<line x1="${LAYOUT.left}" y1="${axisY}" x2="${plotRight}" y2="${axisY}" stroke="#9e9e9e" stroke-width="1"/>`);
  out.push(`<text x="${LAYOUT.left}" y="${axisY + 34}" font-size="10" fill="#757575">${xml(`times in ${tz}`)}</text>`);

  // Labels go in the first of two rows (above, below) where they do not run into the previous one; else only the hover text names the mark.
  const rowEnds = new Map<string, number>();
  for (const m of marks) {
    const x = xOf(Date.parse(m.at), window);
    const mid = laneMiddle(m.lane);
    const colour = COLOURS[m.tone];
    const label = clip(m.label, 28);
    const width = label.length * LABEL_CHAR_PX;
    const flip = x + width > plotRight;
    const [start, end] = flip ? [x - width, x] : [x, x + width];
    const row = [0, 1].find((r) => start > (rowEnds.get(`${m.lane}:${r}`) ?? -Infinity) + 4);
    const attrs = `class="mark" data-lane="${m.lane}" data-kind="${m.kind}" data-at="${m.at}"${m.until ? ` data-until="${m.until}"` : ''} data-x="${x}"`;
    out.push(`<g ${attrs}>`);
    out.push(`<title>${xml(m.title)}</title>`);
    if (m.until === null) {
      out.push(`<polygon points="${x},${mid - 7} ${round(x + 7)},${mid} ${x},${mid + 7} ${round(x - 7)},${mid}" fill="${colour}"/>`);
    } else {
      const x2 = Math.max(xOf(Date.parse(m.until), window), x + 3);
      out.push(`<rect x="${x}" y="${mid - 6}" width="${round(x2 - x)}" height="12" rx="2" fill="${colour}" fill-opacity="0.85"/>`);
    }
    if (row !== undefined) {
      rowEnds.set(`${m.lane}:${row}`, end);
      out.push(`<text x="${x}" y="${row === 0 ? mid - 12 : mid + 22}" font-size="10" fill="#212121"${flip ? ' text-anchor="end"' : ''}>${xml(label)}</text>`);
    }
    out.push('</g>');
  }

  if (report.t0) {
    const x = xOf(Date.parse(report.t0.at), window);
    out.push(`<g class="t0" data-at="${report.t0.at}" data-x="${x}">`);
    out.push(`<line x1="${x}" y1="${LAYOUT.top - 8}" x2="${x}" y2="${axisY}" stroke="#6a1b9a" stroke-width="2" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${x}" y="${LAYOUT.top - 12}" font-size="12" font-weight="bold" fill="#6a1b9a" text-anchor="middle">${xml(`T-0 ${clockTime(report.t0.at, tz)}`)}</text>`);
    out.push('</g>');
  }
  if (marks.length === 0) {
    out.push(`<text x="${(LAYOUT.left + plotRight) / 2}" y="${LAYOUT.top + (LANES.length * LAYOUT.laneHeight) / 2}" font-size="14" fill="#757575" text-anchor="middle">Nothing has happened yet</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

