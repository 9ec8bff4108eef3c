// Prints how long golive's hot paths take on this machine. Numbers, not assertions:
// compare runs by eye or in bench/README.md.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createLogger } from '../src/logger.js';
import { loadRunbookFile } from '../src/runbook/load-runbook.js';
import { ChecklistService } from '../src/services/checklist.js';
import { RoleDirectory } from '../src/services/resolve-roles.js';
import type { SlackPort } from '../src/slack/slack-port.js';
import { StatusBoard } from '../src/slack/status-board.js';
import { openDatabase } from '../store/open-database.js';
import { Store } from '../store/store.js';

function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return `p50 ${at(0.5).toFixed(3)} ms · p95 ${at(0.95).toFixed(3)} ms · max ${s[s.length - 1]!.toFixed(3)} ms (n=${s.length})`;
}

const loadStart = performance.now();
const loaded = loadRunbookFile('runbooks/realserv.yml');
if (!loaded.ok) throw new Error('realserv.yml is invalid');
const runbook = loaded.runbook;
console.log(`load+validate realserv.yml (34 gates, 195 items): ${(performance.now() - loadStart).toFixed(1)} ms`);

const dir = mkdtempSync(path.join(tmpdir(), 'golive-bench-'));
const store = new Store(openDatabase(path.join(dir, 'bench.db')));
const clock = { now: () => new Date() };
const slack = { usergroupMembers: async () => ['U0AAAA', 'U0BBBB', 'U0CCCC'] } as unknown as SlackPort;
const roles = new RoleDirectory(runbook, slack, clock);
const checklist = new ChecklistService(runbook, store, roles, clock);
const board = new StatusBoard({ runbook, store, slack, checklist, roles, clock, logger: createLogger({ level: 'silent' }) });
const viewer = Object.values(runbook.roles).flatMap((r) => r.users)[0] ?? 'U0AAAA';

const render: number[] = [];
for (let i = 0; i < 200; i++) {
  const t = performance.now();
  await board.render(viewer, { page: 1 });
  render.push(performance.now() - t);
}
console.log(`status render, 195 items: ${stats(render)}`);

const items = checklist.itemIds();
const writes: number[] = [];
for (let round = 0; round < 4; round++) {
  for (const id of items) {
    const owner = runbook.gates.flatMap((g) => g.items).find((i) => i.id === id)!.owner;
    const user = runbook.roles[owner]!.users[0] ?? 'U0AAAA';
    const t = performance.now();
    if (round % 2 === 0) await checklist.check(id, { userId: user, source: 'command' }, 'bench');
    else await checklist.uncheck(id, { userId: user, source: 'command' }, 'bench');
    writes.push(performance.now() - t);
  }
}
console.log(`check/uncheck (transaction + audit row, file DB, WAL): ${stats(writes)}`);
console.log(`audit rows written: ${store.auditCount()}`);
const mem = process.memoryUsage();
console.log(`memory: rss ${(mem.rss / 2 ** 20).toFixed(1)} MiB · heap used ${(mem.heapUsed / 2 ** 20).toFixed(1)} MiB`);
store.db.close();
rmSync(dir, { recursive: true, force: true });
