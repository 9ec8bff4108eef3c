import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../platform/logger.js';
import { renderPng } from './render-png.js';
import type { PostmortemDraft } from './launch-report.js';
import { renderPostmortemHtml, renderPostmortemMarkdown } from './render-postmortem.js';
import { renderReportHtml, renderReportMarkdown } from './render-report.js';
import { renderTimelineSvg } from './render-timeline-svg.js';
import type { ReportService } from './report-service.js';
import { PNG_SCALE } from './share-documents.js';

/** Headers for every report page: it holds launch details, so nothing keeps it, indexes it or leaks its address. */
const PRIVATE_HEADERS = {
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Robots-Tag': 'noindex, nofollow',
  'X-Content-Type-Options': 'nosniff',
  // The HTML is self-contained: no script runs, nothing is fetched, nobody frames it.
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

const FILES: Record<string, string> = {
  '': 'text/html; charset=utf-8',
  'launch-report.html': 'text/html; charset=utf-8',
  'launch-report.md': 'text/markdown; charset=utf-8',
  'timeline.svg': 'image/svg+xml',
  'timeline.png': 'image/png',
};

/**
 * `GET /reports/<token>[/<file>]`: the report page (HTML), its Markdown,
 * the timeline (SVG, PNG) and each incident's post-mortem draft, rendered
 * from the records as they are now. A wrong token is a plain 404.
 */
export function serveReportPages(reports: ReportService, logger: Logger): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const m = /^\/reports\/([A-Za-z0-9_-]{1,64})(?:\/([A-Za-z0-9._-]*))?$/.exec((req.url ?? '').split('?')[0] ?? '');
    const notFound = (): void => void res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...PRIVATE_HEADERS }).end('Not found.\n');
    if (!m || req.method !== 'GET' || !(await reports.isLive(m[1]!))) return notFound();
    const file = m[2] ?? '';
    const postmortem = /^INC-(\d{1,9})-postmortem\.(md|html)$/.exec(file);
    try {
      if (postmortem) {
        const id = Number(postmortem[1]);
        let draft: PostmortemDraft;
        try {
          draft = await reports.postmortemDraft(id);
        } catch {
          return notFound();
        }
        const md = postmortem[2] === 'md';
        res.writeHead(200, { 'Content-Type': md ? 'text/markdown; charset=utf-8' : 'text/html; charset=utf-8', ...PRIVATE_HEADERS });
        return void res.end(md ? renderPostmortemMarkdown(draft) : renderPostmortemHtml(draft));
      }
      const type = FILES[file];
      if (!type) return notFound();
      const report = await reports.launchReport('golive');
      const body =
        file === 'launch-report.md'
          ? renderReportMarkdown(report, { timelineSrc: 'timeline.png' })
          : file === 'timeline.svg'
            ? renderTimelineSvg(report)
            : file === 'timeline.png'
              ? renderPng(renderTimelineSvg(report), PNG_SCALE)
              : renderReportHtml(report);
      res.writeHead(200, { 'Content-Type': type, ...PRIVATE_HEADERS });
      res.end(body);
    } catch (err) {
      logger.error({ err }, 'could not render the report');
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8', ...PRIVATE_HEADERS }).end('golive could not render the report; the log says why.\n');
    }
  };
}
