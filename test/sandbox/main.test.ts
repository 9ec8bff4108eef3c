import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../support/start-app.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('npm start without Slack credentials', () => {
  it('starts the sandbox with the GoVisaX runbook, prints its URL, serves the page and stops cleanly', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'golive-sandbox-main-'));
    const db = path.join(dir, 'sandbox.db');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', GOLIVE_SANDBOX_DB: db },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += String(c)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        stdout += String(c);
        const m = /Open (http:\/\/127\.0\.0\.1:\d+\/) in your browser\./.exec(stdout);
        if (m) resolve(m[1]!);
      });
      void exited.then((code) => reject(new Error(`exited ${code} before printing the URL:\n${stdout}\n${stderr}`)));
    });

    expect(stdout).toContain('golive SANDBOX: GoVisaX Production Go-Live');
    expect(stdout).toContain(`Session state: ${db} (delete it to start over).`);
    expect(stdout).toContain('People: Priya (BD Lead), Arjun (DevOps), Meera (DevOps)');
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>golive sandbox</title>');
    const health = (await (await fetch(new URL('/healthz', url))).json()) as { status: string; database: { path: string } };
    expect(health).toMatchObject({ status: 'ok', database: { path: db } });

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
  }, 30_000);
});
