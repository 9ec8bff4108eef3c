import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { LAYOUT, laneMiddle, renderTimelineSvg } from '../../src/report/render-timeline-svg.js';
import { renderPng } from '../../src/report/render-png.js';
import { sampleReport } from './sample-report.js';

type Node = Record<string, unknown>;

/** The parsed SVG: the root's attributes and every mark group. */
function parse(svg: string) {
  expect(XMLValidator.validate(svg)).toBe(true);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'g' || name === 'rect' || name === 'polygon' || name === 'text' }).parse(svg) as { svg: Node };
  const root = doc.svg as Node & { g?: Node[] };
  const groups = root.g ?? [];
  return { root, marks: groups.filter((g) => g.class === 'mark'), t0: groups.find((g) => g.class === 't0') };
}

/** Where the picture should put a time, computed here from its window, not with the renderer's own function. */
function expectedX(at: string, root: Node): number {
  const from = Date.parse(String(root['data-from']));
  const to = Date.parse(String(root['data-to']));
  return LAYOUT.left + ((Date.parse(at) - from) / (to - from)) * (LAYOUT.width - LAYOUT.left - LAYOUT.right);
}

/** The x where a mark's shape starts: a span's rect, or a milestone diamond's first point. */
function shapeX(mark: Node): number {
  const rect = (mark.rect as Node[] | undefined)?.[0];
  if (rect) return Number(rect.x);
  const polygon = (mark.polygon as Node[])[0]!;
  return Number(String(polygon.points).split(' ')[0]!.split(',')[0]);
}

function shapeY(mark: Node): number {
  const rect = (mark.rect as Node[] | undefined)?.[0];
  if (rect) return Number(rect.y) + Number(rect.height) / 2;
  const points = String((mark.polygon as Node[])[0]!.points).split(' ').map((p) => p.split(',').map(Number));
  return (points[0]![1]! + points[2]![1]!) / 2;
}

describe('the timeline picture', () => {
  const report = sampleReport();
  const svg = renderTimelineSvg(report);
  const { root, marks, t0 } = parse(svg);

  it('draws one mark per event, in its lane, at its time', () => {
    const events = [
      ...report.milestones.filter((m) => m.dueAt).map((m) => ({ lane: 'milestones', at: m.dueAt!, until: undefined })),
      ...report.changes.map((c) => ({ lane: 'deploys', at: c.startedAt, until: c.finishedAt })),
      ...report.alarms.flatMap((a) => a.firings.map((f) => ({ lane: 'alarms', at: f.firedAt, until: f.recoveredAt }))),
      ...report.incidents.map((i) => ({ lane: 'incidents', at: i.declaredAt, until: i.resolvedAt })),
    ];
    expect(marks).toHaveLength(events.length);
    for (const e of events) {
      const found = marks.filter((m) => m['data-lane'] === e.lane && m['data-at'] === e.at);
      expect(found, `${e.lane} at ${e.at}`).toHaveLength(1);
      const mark = found[0]!;
      expect(shapeX(mark)).toBeCloseTo(expectedX(e.at, root), 0);
      expect(shapeY(mark)).toBeCloseTo(laneMiddle(e.lane as 'milestones'), 5);
      if (e.until) {
        const rect = (mark.rect as Node[])[0]!;
        expect(Number(rect.x) + Number(rect.width)).toBeCloseTo(Math.max(expectedX(e.until, root), Number(rect.x) + 3), 0);
      }
    }
  });

  it('spans the whole launch and marks T-0', () => {
    const from = Date.parse(String(root['data-from']));
    const to = Date.parse(String(root['data-to']));
    const times = [...report.milestones.map((m) => m.dueAt!), report.t0!.at, ...report.incidents.map((i) => i.resolvedAt!)].map(Date.parse);
    expect(from).toBeLessThan(Math.min(...times));
    expect(to).toBeGreaterThan(Math.max(...times));
    expect(t0?.['data-at']).toBe(report.t0!.at);
    expect(Number(t0?.['data-x'])).toBeCloseTo(expectedX(report.t0!.at, root), 0);
    expect(svg).toContain('>T-0 08:00<');
  });

  it('labels lanes and times in the launch timezone, and escapes what people typed', () => {
    for (const lane of ['Milestones', 'Deploys', 'Alarms', 'Incidents']) expect(svg).toContain(`>${lane}</text>`);
    expect(svg).toContain('times in Asia/Kolkata');
    // Ticks fall on local round hours (Asia/Kolkata is UTC+5:30): "1 Dec 00:00", not "18:30".
    expect(svg).toContain('>1 Dec 00:00<');
    expect(svg).not.toContain('<!channel>');
    const incident = marks.find((m) => m['data-lane'] === 'incidents')!;
    // The parser decodes the entities: the text reads back as typed, and was never markup.
    expect(String(incident.title)).toContain('API 5xx after 1.4.1 <!channel>');
    expect(svg).toContain('API 5xx after 1.4.1 &lt;!channel&gt;');
  });

  it('says so when nothing has happened', () => {
    const empty = { ...sampleReport(), t0: null, milestones: [], changes: [], alarms: [], incidents: [] };
    const parsed = parse(renderTimelineSvg(empty));
    expect(parsed.marks).toHaveLength(0);
    expect(renderTimelineSvg(empty)).toContain('Nothing has happened yet');
  });

  it('renders to a PNG of the same size (twice as large at scale 2)', () => {
    const png = renderPng(svg, 2);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    // The IHDR chunk holds width and height right after the signature and chunk header.
    expect(png.readUInt32BE(16)).toBe(LAYOUT.width * 2);
    expect(png.readUInt32BE(20)).toBe(Number(root.height) * 2);
  });
});
