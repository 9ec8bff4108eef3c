// Measure 2: the status the way /golive status, the channel boards and the App Home
// render it (StatusBoard.render over a real ChecklistService and SQLite store), for
// synthetic runbooks of 50, 300 and 1,000 items: time, blocks, and Slack's limits.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createLogger } from '../src/platform/logger.js';
import { ChecklistService } from '../src/checklist/checklist-service.js';
import { RoleDirectory } from '../src/platform/roles/resolve-roles.js';
import { MAX_HOME_BLOCKS, MAX_MESSAGE_BLOCKS } from '../src/platform/slack/blocks.js';
import type { SlackPort } from '../src/platform/slack/slack-port.js';
import { EVERYONE, StatusBoard } from '../src/checklist/status-board.js';
import { openDatabase } from '../src/platform/store/open-database.js';
import { SqliteStore } from '../src/platform/store/sqlite-store.js';
import { syntheticRunbook } from './support/runbook.js';
import { ms, summarize, table } from './support/stats.js';
import { messageContentError, viewError } from '../src/sandbox/block-limits.js';

const RENDERS = 200;

export async function renderBench(opts: { log: (s: string) => void }): Promise<string> {
  const rows: string[][] = [];
  const problems: string[] = [];
  for (const items of [50, 300, 1000]) {
    const runbook = syntheticRunbook({ items });
    const dir = mkdtempSync(path.join(tmpdir(), 'golive-bench-render-'));
    // SQLite: the figures in bench/README.md are the embedded store's (the default GOLIVE_DB).
    const store = new SqliteStore(openDatabase(path.join(dir, 'render.db')));
    try {
      const clock = { now: () => new Date() };
      const slack = { usergroupMembers: async () => ['U0DEVOPS2', 'U0DEVOPS3'] } as unknown as SlackPort;
      const roles = new RoleDirectory(runbook, slack, clock);
      const checklist = new ChecklistService(runbook, store, roles, clock);
      const board = new StatusBoard({ runbook, store, slack, checklist, roles, clock, logger: createLogger({ level: 'silent' }) });
      const ids = checklist.itemIds();
      for (const state of ['none done', 'half done'] as const) {
        if (state === 'half done') for (const id of ids.filter((_, i) => i % 2 === 0)) await checklist.check(id, { userId: 'U0DEVOPS', source: 'command', channel: 'C0OPS' }, 'bench');
        for (const surface of [
          { name: 'channel message (`/golive status`, boards)', max: MAX_MESSAGE_BLOCKS, surface: 'message' as const, gateId: undefined },
          { name: 'one gate (`/golive status gate-00`)', max: MAX_MESSAGE_BLOCKS, surface: 'message' as const, gateId: 'gate-00' },
          { name: 'App Home', max: MAX_HOME_BLOCKS, surface: 'view' as const, gateId: undefined },
        ]) {
          const times: number[] = [];
          for (let i = 0; i < RENDERS; i++) {
            const t = performance.now();
            await board.render(surface.surface === 'view' ? 'U0DEVOPS' : EVERYONE, { page: 1, gateId: surface.gateId }, surface.max);
            times.push(performance.now() - t);
          }
          // Every page must fit, not only the first.
          const first = await board.render(surface.surface === 'view' ? 'U0DEVOPS' : EVERYONE, { page: 1, gateId: surface.gateId }, surface.max);
          let maxBlocks = 0;
          let maxText = 0;
          let bytes = 0;
          const found: string[] = [];
          for (let page = 1; page <= first.pages; page++) {
            const r = await board.render(surface.surface === 'view' ? 'U0DEVOPS' : EVERYONE, { page, gateId: surface.gateId }, surface.max);
            maxBlocks = Math.max(maxBlocks, r.blocks.length);
            maxText = Math.max(maxText, longestText(r.blocks));
            bytes = Math.max(bytes, Buffer.byteLength(JSON.stringify(r.blocks)));
            // The same checks the sandbox and the tests' fake Slack apply to what golive sends.
            const refused = surface.surface === 'message' ? messageContentError({ text: r.text, blocks: r.blocks }, true) : viewError({ type: 'home', blocks: r.blocks }, ['home']);
            if (refused) found.push(`page ${page}: ${String(refused.error)} ${((refused.response_metadata as { messages?: string[] } | undefined)?.messages ?? []).join(', ')}`);
          }
          if (found.length > 0) problems.push(`${items} items, ${state}, ${surface.name}: ${found.slice(0, 5).join('; ')}`);
          const s = summarize(times);
          rows.push([
            String(items),
            state,
            surface.name,
            `${ms(s.p50)} / ${ms(s.p99)}`,
            String(first.pages),
            `${maxBlocks} / ${surface.max}`,
            `${maxText} / 3000`,
            `${(bytes / 1024).toFixed(1)} KiB`,
            found.length === 0 ? 'none' : `**${found.length}**`,
          ]);
        }
      }
      opts.log(`render ${items} items done`);
    } finally {
      void store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const out = table(['items', 'checked', 'surface', `render p50 / p99 (ms, n=${RENDERS})`, 'pages', 'most blocks on a page / limit', 'longest text / limit', 'largest page JSON', 'limit violations'], rows);
  return problems.length === 0 ? out : `${out}\n\nViolations:\n${problems.map((p) => `- ${p}`).join('\n')}`;
}

function longestText(value: unknown): number {
  if (Array.isArray(value)) return Math.max(0, ...value.map(longestText));
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const own = typeof o.text === 'string' ? o.text.length : 0;
    return Math.max(own, ...Object.values(o).map(longestText));
  }
  return 0;
}
