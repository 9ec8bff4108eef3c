import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from './start-app.js';

/** launch.yml (T-0 = 1 Dec 08:00 IST = 02:30Z) with three milestones. */
export function writeTimelineRunbook(): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'golive-timeline-')), 'launch.yml');
  writeFileSync(
    file,
    `${readFileSync(path.join(PROJECT_ROOT, 'test/fixtures/launch.yml'), 'utf8')}
milestones:
  - at: T-24h
    title: Pre-flight signed off
    items: [v2f-agreement, secrets-manager]
  - at: T-0
    title: Deploy begins
    text: Run cdk deploy.
  - at: T+30m
    title: DNS cutover
`,
  );
  return file;
}
