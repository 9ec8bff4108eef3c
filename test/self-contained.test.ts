import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './support/start-app.js';

// Built or installed trees, and the published data itself (its SOURCE.txt files name where it came from).
const SKIP = new Set(['node_modules', '.git', 'dist', 'data', 'coverage', 'test/fixtures', '.ci/cache']);
// A folder beside the clone: what a test reading it would need, and what a fresh clone does not have.
const OUTSIDE = /\.\.\/shared\b|shared\/fixtures/;

/** The project's files: what git tracks or would track (not what it ignores), else every file outside SKIP. */
function projectFiles(dir = ''): string[] {
  const git = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  if (!dir && git.status === 0) return git.stdout.split('\n').filter((f) => f && ![...SKIP].some((s) => f === s || f.startsWith(`${s}/`)) && existsSync(path.join(PROJECT_ROOT, f)));
  return readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.posix.join(dir, e.name);
    if (SKIP.has(rel) || /\.db(-wal|-shm)?$/.test(e.name)) return [];
    return e.isDirectory() ? projectFiles(rel) : [rel];
  });
}

describe('the project is self-contained', () => {
  it('no file reads the shared/ folder beside the clone; the fixtures are in test/fixtures/', () => {
    const self = path.posix.relative(PROJECT_ROOT, new URL(import.meta.url).pathname);
    const offenders = projectFiles()
      .filter((f) => f !== self)
      .flatMap((f) => readFileSync(path.join(PROJECT_ROOT, f), 'utf8').split('\n').flatMap((line, i) => (OUTSIDE.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])));
    expect(offenders).toEqual([]);
  });

  it('every fixture folder keeps its SOURCE.txt', () => {
    const root = path.join(PROJECT_ROOT, 'test/fixtures');
    const folders = readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && !e.name.endsWith('.yml') && !['README.md'].includes(e.name))
      .map((e) => path.relative(root, e.parentPath));
    const withoutSource = [...new Set(folders)].filter((f) => !readdirSync(path.join(root, f)).includes('SOURCE.txt'));
    expect(withoutSource).toEqual([]);
  });
});
