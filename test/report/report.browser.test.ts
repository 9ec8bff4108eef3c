import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORT_SECTIONS, renderReportHtml } from '../../src/report/render-report.js';
import { renderTimelineSvg } from '../../src/report/render-timeline-svg.js';
import { renderPng } from '../../src/report/render-png.js';
import { PROJECT_ROOT } from '../support/start-app.js';
import { sampleReport } from './sample-report.js';

/**
 * The HTML launch report in a real headless Chromium (Debian's `chromium`).
 * GOLIVE_REPORT_SCREENSHOTS=docs (npm run report:screenshot) saves
 * docs/report.png (the page) and docs/report-timeline.png (the timeline as the
 * PNG Slack shows) from this run.
 */
const CHROMIUM = '/usr/bin/chromium';
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`The report browser test needs Chromium at ${CHROMIUM}, and it is not there. Install it with: sudo apt-get install -y chromium (Debian/Ubuntu), or run .ci/run, which installs it.`);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

describe('the HTML launch report in a browser', () => {
  it('opens self-contained, shows every section and the timeline, and prints', async () => {
    const report = sampleReport();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.setContent(renderReportHtml(report), { waitUntil: 'load' });

    await expect.poll(() => page.locator('h1').innerText()).toBe('Launch report — GoVisaX Production Go-Live');
    for (const s of REPORT_SECTIONS) expect(await page.locator(`h2#${s.id}`).innerText()).toBe(s.title);
    // What people typed is text on the page, never markup.
    expect(await page.locator('#incidents + table').innerText()).toContain('API 5xx after 1.4.1 <!channel>');
    expect(await page.locator('figure svg g.mark').count()).toBe(report.milestones.length + report.changes.length + 1 + report.incidents.length);
    const box = await page.locator('figure svg').boundingBox();
    expect(box!.width).toBeGreaterThan(600);
    // Nothing is fetched: no font, no stylesheet, no image, no script.
    expect(requests).toEqual([]);
    expect((await page.pdf({ format: 'A4' })).subarray(0, 5).toString()).toBe('%PDF-');

    const dir = process.env.GOLIVE_REPORT_SCREENSHOTS;
    if (dir) {
      const out = path.resolve(PROJECT_ROOT, dir);
      mkdirSync(out, { recursive: true });
      await page.screenshot({ path: path.join(out, 'report.png'), fullPage: true });
      writeFileSync(path.join(out, 'report-timeline.png'), renderPng(renderTimelineSvg(report), 1));
    }
    await page.close();
  }, 60_000);
});
