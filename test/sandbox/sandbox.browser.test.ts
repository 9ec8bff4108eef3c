import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/start-sandbox.js';
import { PROJECT_ROOT } from '../support/start-app.js';

/*
 * The sandbox in a real headless Chromium (Debian's `chromium`), driven the
 * way a person would: type commands, click the bot's buttons, switch who you
 * are, flip an alarm. Set GOLIVE_SANDBOX_SCREENSHOT=docs/sandbox.png (npm run
 * sandbox:screenshot) to refresh the README's screenshot from this run.
 */

const CHROMIUM = '/usr/bin/chromium';
const ARJUN = 'U0SANDBOX01'; // DevOps (the runbook's S0DEVOPS01 group)
const VIKRAM = 'U0CTO00001'; // CTO

let dir: string;
let sandbox: RunningSandbox;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`The sandbox browser test needs Chromium at ${CHROMIUM}, and it is not there. Install it with: sudo apt-get install -y chromium (Debian/Ubuntu), or run .ci/run, which installs it.`);
  }
  dir = mkdtempSync(path.join(tmpdir(), 'golive-sandbox-browser-'));
  sandbox = await startSandbox(
    { runbookPath: path.join(PROJECT_ROOT, 'runbooks/govisax.yml'), dbPath: path.join(dir, 'sandbox.db'), port: 0, host: '127.0.0.1', logLevel: 'silent', rolloutMs: 300 },
    { alarmPolling: false },
  );
  // The app's own first poll is off (alarmPolling: false); this one posts the baseline the page starts with.
  await sandbox.app.services.alarms.poll();
  context = await chromium.launchPersistentContext(path.join(dir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await context.newPage();
}, 60_000);

afterAll(async () => {
  await context?.close();
  await sandbox?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function type(command: string): Promise<void> {
  await page.locator('#message-box').fill(command);
  await page.locator('#message-box').press('Enter');
}

/** Waits for the page to show something; generous, since the 2-core CI machine runs other suites alongside. */
const eventually = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 15_000, interval: 50 });

/** The channel's messages, as one text. */
const channelText = () => page.locator('#messages').innerText();

describe('the sandbox page in Chromium', () => {
  it('runs /golive status, a sign-off, a rollback approved by someone else, and an alarm', async () => {
    await page.goto(`${sandbox.url}?as=${ARJUN}`);
    await eventually(() => page.locator('#person').inputValue()).toBe(ARJUN);
    await eventually(() => page.locator('#channel-title').innerText()).toBe('# ops');
    await eventually(channelText).toContain('👀 Watching 7 alarms under GoVisaX-Prod. Nothing is firing.');

    // /golive status: the real bot posts the status board from Block Kit.
    await type('/golive status');
    await eventually(channelText).toContain('Only visible to you: you ran /golive status');
    const board = page.locator('.message', { has: page.locator('.b-header', { hasText: 'GoVisaX Production Go-Live' }) });
    await eventually(() => board.locator('.content').innerText()).toContain('7 blockers open — NO-GO until resolved');
    // mrkdwn: *bold*, `code` and <@U…> mentions render as Slack shows them.
    await eventually(() => board.locator('b', { hasText: '7 blockers open — NO-GO until resolved' }).count()).toBe(1);
    await eventually(() => board.locator('.b-section', { hasText: 'secrets-manager-v2f' }).locator('code').first().innerText()).toBe('secrets-manager-v2f');
    await eventually(() => board.locator('.mention.me').first().innerText()).toBe('@arjun');

    // Sign an item off with the button on the board; the board is updated in place and the change announced.
    await board.locator('.b-section', { hasText: 'secrets-manager-v2f' }).getByRole('button', { name: 'Sign off' }).click();
    await eventually(() => board.locator('.content').innerText()).toContain('6 blockers open — NO-GO until resolved');
    await eventually(() => board.locator('.edited').count()).toBe(1);
    await eventually(channelText).toContain('@arjun signed off secrets-manager-v2f');

    // Arjun asks for a rollback; he cannot approve it himself (a private reply), Vikram the CTO can.
    await type('/golive rollback api canary shows 5xx');
    const card = page.locator('.message', { hasText: 'Rollback requested for api' });
    await eventually(() => card.innerText()).toContain('govisax-prod:3 → govisax-prod:2');
    await eventually(() => card.innerText()).toContain('Reason: “canary shows 5xx”');
    await card.getByRole('button', { name: 'Approve' }).click();
    const refusal = page.locator('.message.ephemeral', { hasText: 'You asked for this rollback, so someone else has to approve it.' });
    await eventually(() => refusal.innerText()).toContain('Only visible to you');

    await page.locator('#person').selectOption(VIKRAM);
    await eventually(() => page.locator('#person-roles').innerText()).toBe('U0CTO00001 · CTO');
    // Private replies belong to the person they were sent to.
    await eventually(() => refusal.count()).toBe(0);
    await card.getByRole('button', { name: 'Approve' }).click();
    await eventually(() => card.innerText()).toContain('✅ Approved by @vikram');
    await eventually(channelText).toContain('✅ Rollback of api to govisax-prod:2 succeeded');
    // The rollout's progress is in the thread under the card; the simulated service now runs :2.
    await eventually(() => page.locator('.thread').first().innerText()).toContain('Rolling back from govisax-prod:3 to govisax-prod:2');
    await eventually(() => page.locator('[data-service="api"]').innerText()).toContain('Running govisax-prod:2 · 2/2 tasks');

    // Flip an alarm: the bot posts it, pages PagerDuty (simulated), and opens the incident the rule asks for.
    await page.getByRole('button', { name: 'Set GoVisaX-Prod-API-5XX-Rate to ALARM' }).click();
    await eventually(channelText).toContain('🔴 ALARM GoVisaX-Prod-API-5XX-Rate · severity critical · pages on-call');
    await eventually(() => page.locator('[data-alarm="GoVisaX-Prod-API-5XX-Rate"] .state').innerText()).toBe('ALARM');
    await eventually(() => page.locator('#pages').innerText()).toContain('TRIGGER critical');
    await eventually(() => page.locator('#pages').innerText()).toContain('GoVisaX-Prod-API-5XX-Rate is in ALARM: Threshold Crossed (SANDBOX: set from the sandbox page)');
    const incidentChannel = page.locator('#channels .channel-link', { hasText: /# inc-/ });
    await eventually(() => incidentChannel.count()).toBe(1);

    const shot = process.env.GOLIVE_SANDBOX_SCREENSHOT;
    if (shot) {
      const file = path.resolve(PROJECT_ROOT, shot);
      mkdirSync(path.dirname(file), { recursive: true });
      await page.locator('#messages').evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await page.screenshot({ path: file });
    }

    await incidentChannel.click();
    await eventually(() => page.locator('#channel-title').innerText()).toMatch(/^# inc-\d{8}-govisax-prod-api-5xx-rate$/);
    await eventually(channelText).toContain('Incident INC-1 — P2 — High');
  }, 90_000);

  // The tests below continue the session above, in order.

  it('declares an incident from its modal, showing the field error the app answers first', async () => {
    await page.locator('#channels .channel-link', { hasText: '# ops' }).click();
    await type('/golive incident declare');
    const dialog = page.getByRole('dialog');
    await eventually(() => dialog.isVisible()).toBe(true);
    await eventually(() => dialog.locator('#modal-title').innerText()).toBe('Declare an incident');
    await dialog.getByRole('button', { name: 'Declare' }).click();
    await eventually(() => dialog.locator('[data-error-for="summary"]').innerText()).toBe('An incident needs a summary.');

    await dialog.getByLabel('Severity').selectOption('P3');
    await dialog.getByLabel('Summary').fill('Push notifications delayed');
    await dialog.getByRole('button', { name: 'Declare' }).click();
    await eventually(() => dialog.isVisible()).toBe(false);
    await eventually(channelText).toMatch(/INC-2 is open in #inc-\d{8}-push-notifications-delayed; you are its commander\./);
    await eventually(() => page.locator('#channels .channel-link', { hasText: 'push-notifications-delayed' }).count()).toBe(1);
  }, 60_000);

  it('shows App Home as the app publishes it for the current person', async () => {
    await page.getByRole('button', { name: 'golive · Home' }).click();
    await eventually(() => page.locator('#channel-title').innerText()).toBe('golive · Home');
    await eventually(() => page.locator('#messages').innerText()).toContain('GoVisaX Production Go-Live');
    await eventually(() => page.locator('#composer').isVisible()).toBe(false);
  }, 60_000);

  it('makes the next ECS rollout fail, and the deploy reports it with a Roll back button', async () => {
    await page.locator('#channels .channel-link', { hasText: '# ops' }).click();
    // A firing alarm would hold the deploy back; so would the BD Lead's open blocker.
    await page.getByRole('button', { name: 'Set GoVisaX-Prod-API-5XX-Rate to OK' }).click();
    await eventually(() => page.locator('[data-alarm="GoVisaX-Prod-API-5XX-Rate"] .state').innerText()).toBe('OK');
    await eventually(channelText).toContain('→ OK GoVisaX-Prod-API-5XX-Rate · recovered after');
    await page.locator('#person').selectOption('U0BDLEAD01');
    await type('/golive check v2f-agreement signed <i>this</i> morning & filed');
    // What someone typed is shown as typed, never as markup.
    const announcement = page.locator('.message', { hasText: '@priya signed off v2f-agreement' });
    await eventually(() => announcement.innerText()).toContain('— “signed <i>this</i> morning & filed”');
    expect(await announcement.locator('i').count()).toBe(0);

    await page.locator('#person').selectOption(ARJUN);
    const failNext = page.getByLabel('Make the next rollout fail');
    await failNext.check();
    await eventually(() => sandbox.ecs.view()[0]!.failNext).toBe(true);
    await type('/golive deploy api v1.0.1');
    await eventually(channelText).toContain('❌ Deploy of api failed: ECS reports the rollout FAILED: SANDBOX: tasks failed their health checks (simulated failure)');
    await eventually(() => page.locator('[data-service="api"] .rollout').innerText()).toContain('Rollout of govisax-prod:4: FAILED 0/2');
    await eventually(() => failNext.isChecked()).toBe(false);
    const card = page.locator('.message', { hasText: 'Deploy of api: govisax-prod:2 → govisax-prod:4' });
    await eventually(() => card.getByRole('button', { name: '↩️ Roll back' }).count()).toBe(1);
  }, 60_000);

  it('makes a checked fact false from the page: the item’s check fails on the status, and passes again when it is put back', async () => {
    await page.locator('#channels .channel-link', { hasText: '# ops' }).click();
    const fact = page.locator('[data-fact="route53-hosted-zone"]');
    const ITEM_LINES = 'route53-hosted-zone Route 53 Hosted Zone for govisax\\.com Exists\nOwner: [^\n]*\n';
    await eventually(() => fact.innerText()).toContain('route53-hosted-zone');
    const breakIt = page.getByLabel('Make the check of route53-hosted-zone fail');
    await breakIt.check();
    // The page re-runs the item's check at once; the status board shows what the check found.
    await eventually(() => fact.getAttribute('class')).toBe('fact broken');
    await type('/golive status pre-flight');
    await eventually(() => page.locator('.message').last().innerText()).toMatch(new RegExp(`${ITEM_LINES}❌ check failed just now: “no public Route 53 hosted zone for govisax\\.com”\n`));

    await breakIt.uncheck();
    await eventually(() => fact.getAttribute('class')).toBe('fact');
    await type('/golive status pre-flight');
    await eventually(() => page.locator('.message').last().innerText()).toMatch(new RegExp(`${ITEM_LINES}✅ verified just now: “[^”\\n]*govisax\\.com[^”\\n]*”\n`));
  }, 60_000);
});
