import { formatProblem, loadRunbookFile } from './platform/runbook/load-runbook.js';

// Usage: npm run validate -- <runbook.yml> [more.yml …] (built, as in the Docker image:
// node dist/src/validate-cli.js <runbook.yml> …); exits 1 if any file has a problem.
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: npm run validate -- <runbook.yml> [more.yml …]\n   or: node dist/src/validate-cli.js <runbook.yml> [more.yml …]');
  process.exit(2);
}
let bad = 0;
for (const file of files) {
  const result = loadRunbookFile(file);
  if (result.ok) {
    const rb = result.runbook;
    const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
    const items = rb.gates.reduce((n, g) => n + g.items.length, 0);
    console.log(`${file}: ok (${count(rb.gates.length, 'gate')}, ${count(items, 'item')}, ${count(rb.services.length, 'service')}, ${count(rb.milestones.length, 'milestone')})`);
  } else {
    bad++;
    for (const p of result.problems) console.error(formatProblem(p));
  }
}
process.exit(bad > 0 ? 1 : 0);
