import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './support/start-app.js';

function validate(...files: string[]) {
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'src/validate-cli.ts', ...files], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 20000 });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

describe('npm run validate', () => {
  it('prints a summary and exits 0 for a valid runbook', () => {
    expect(validate('runbooks/minimal.yml')).toEqual({ code: 0, stdout: 'runbooks/minimal.yml: ok (1 gate, 2 items, 0 services, 0 milestones)\n', stderr: '' });
  });

  it('prints file:line: path: reason for every problem and exits 1', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'golive-validate-'));
    const file = path.join(dir, 'broken.yml');
    writeFileSync(
      file,
      [
        'version: 1',
        'launch:',
        '  name: Broken',
        '  channel: C0OPS',
        '  timezone: Mars/Olympus',
        'roles:',
        '  devops: { name: DevOps, users: [U0DEVOPS] }',
        'gates:',
        '  - id: pre-flight',
        '    title: Pre-flight',
        '    signoff: [cto]',
        '    items:',
        '      - { id: one, title: One, level: blocker, owner: devop }',
        '      - { id: one, title: Again, level: info, owner: devops, colour: red }',
        '      - { id: two, title: Two, level: info, ownr: devops }',
        '',
      ].join('\n'),
    );
    const res = validate(file);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    // Misspelt roles are reported with the schema's problems, not once those are fixed; near misses get a suggestion.
    expect(res.stderr).toBe(
      [
        `${file}:5: launch.timezone: must be an IANA time zone such as "Asia/Kolkata" or "UTC"`,
        `${file}:11: gates[0].signoff[0]: unknown role "cto" (roles: devops)`,
        `${file}:13: gates[0].items[0].owner: unknown role "devop" — did you mean "devops"? (roles: devops)`,
        `${file}:14: gates[0].items[1]: unknown field "colour"`,
        `${file}:15: gates[0].items[2].owner: is required (string)`,
        `${file}:15: gates[0].items[2]: unknown field "ownr" (did you mean "owner"?)`,
        '',
      ].join('\n'),
    );
  });

  it('reports uniqueness problems once the shape is right, with the references', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'golive-validate-'));
    const file = path.join(dir, 'refs.yml');
    writeFileSync(
      file,
      [
        'version: 1',
        'launch: { name: Refs, channel: C0OPS }',
        'roles:',
        '  devops: { name: DevOps, users: [U0DEVOPS] }',
        'gates:',
        '  - id: pre-flight',
        '    title: Pre-flight',
        '    signoff: [cto]',
        '    items:',
        '      - { id: one, title: One, level: blocker, owner: devops }',
        '      - { id: one, title: Again, level: info, owner: ops }',
        'milestones:',
        '  - { at: T-1h, title: Final checks }',
        '  - { at: T-0, title: final checks }',
        '',
      ].join('\n'),
    );
    const res = validate(file);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      [
        `${file}:8: gates[0].signoff[0]: unknown role "cto" (roles: devops)`,
        `${file}:11: gates[0].items[1].id: item id "one" is already used in gate "pre-flight"; item ids must be unique in the runbook`,
        `${file}:11: gates[0].items[1].owner: unknown role "ops" — did you mean "devops"? (roles: devops)`,
        `${file}:14: milestones[1].title: another milestone is already titled "final checks"`,
        '',
      ].join('\n'),
    );
  });

  it('reports a missing file and YAML syntax errors with their line', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'golive-validate-'));
    const file = path.join(dir, 'syntax.yml');
    writeFileSync(file, 'version: 1\nlaunch:\n  name: [unclosed\n');
    const res = validate(path.join(dir, 'missing.yml'), file);
    expect(res.code).toBe(1);
    expect(res.stderr.split('\n')[0]).toBe(`${path.join(dir, 'missing.yml')}:1: file not found`);
    expect(res.stderr.split('\n')[1]).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:[34]: YAML: `));
  });
});
