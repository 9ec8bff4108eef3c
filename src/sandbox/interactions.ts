import { createHmac, randomBytes } from 'node:crypto';
import { GoliveError } from '../platform/errors.js';
import { SANDBOX_TEAM, type SimMessage, type SlackSim } from './slack-sim.js';

type Body = Record<string, unknown>;

/** Headers Slack signs its requests with: `v0=` + HMAC-SHA256(secret, `v0:<ts>:<body>`). */
export function slackSignature(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): { 'X-Slack-Request-Timestamp': string; 'X-Slack-Signature': string } {
  const ts = String(timestamp);
  return { 'X-Slack-Request-Timestamp': ts, 'X-Slack-Signature': `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}` };
}

/** What the app answered a signed request with. */
export interface AppAnswer {
  status: number;
  body: string;
}

/** A button: where it is (a channel message, or a view such as App Home) and which one. */
export interface Click {
  user: string;
  channel?: string;
  ts?: string;
  view?: string;
  actionId: string;
  blockId?: string;
  value?: string;
}

/** A button element found in a message or view. */
interface FoundButton {
  blockId: string;
  actionId: string;
  value?: string;
  text: string;
}

const APP_ID = 'A0GOLIVE';
const VERIFICATION_TOKEN = 'sandbox-verification-token';

/**
 * What a person does in the sandbox page, turned into the requests Slack
 * would send: signed slash commands, block_actions, view_submissions and
 * app_home_opened events, posted to the real app's `/slack/events`.
 */
export class Interactions {
  private appUrl?: string;

  constructor(
    private readonly deps: {
      slack: SlackSim;
      signingSecret: string;
      /** Base URL of the sandbox server (response_urls point here). */
      baseUrl: string;
    },
  ) {}

  /** Where the app's receiver listens, once it has started. */
  connect(appEventsUrl: string): void {
    this.appUrl = appEventsUrl;
  }

  async command(user: string, channel: string, text: string): Promise<AppAnswer> {
    const { slack } = this.deps;
    const person = this.person(user);
    const ch = slack.channels.get(channel);
    if (!ch) throw new GoliveError('usage', `The sandbox has no channel ${channel}.`);
    const responseId = slack.newResponseId({ user, channel });
    const trimmed = text.trim().replace(/^\/golive\b\s*/, '');
    slack.echoCommand(user, channel, `/golive ${trimmed}`.trim());
    // Slack HTML-encodes these three in command text.
    const encoded = trimmed.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    const form = new URLSearchParams({
      token: VERIFICATION_TOKEN,
      team_id: SANDBOX_TEAM.id,
      team_domain: SANDBOX_TEAM.domain,
      channel_id: ch.id,
      channel_name: ch.name,
      user_id: user,
      user_name: person.name.toLowerCase(),
      command: '/golive',
      text: encoded,
      api_app_id: APP_ID,
      is_enterprise_install: 'false',
      response_url: this.responseUrl(responseId),
      trigger_id: slack.newTrigger(user),
    });
    const answer = await this.post(form.toString(), 'application/x-www-form-urlencoded');
    // An acknowledgement with a body is shown to the person, as Slack does.
    const reply = parseJson(answer.body);
    if (reply && (reply.text !== undefined || reply.blocks !== undefined)) slack.respond(responseId, reply);
    this.reportFailure(answer, user, channel, '/golive');
    return answer;
  }

  async click(c: Click): Promise<AppAnswer> {
    const { slack } = this.deps;
    const person = this.person(c.user);
    const base = {
      type: 'block_actions',
      user: { id: c.user, username: person.name.toLowerCase(), name: person.name.toLowerCase(), team_id: SANDBOX_TEAM.id },
      api_app_id: APP_ID,
      token: VERIFICATION_TOKEN,
      trigger_id: slack.newTrigger(c.user),
      team: { id: SANDBOX_TEAM.id, domain: SANDBOX_TEAM.domain },
      enterprise: null,
      is_enterprise_install: false,
      state: { values: {} },
    };
    let payload: Body;
    let button: FoundButton;
    if (c.view) {
      const home = slack.homes.get(c.user);
      if (!home || home.id !== c.view) throw new GoliveError('usage', 'That view is no longer open.');
      button = findButton(home.view.blocks, c);
      payload = { ...base, container: { type: 'view', view_id: home.id }, view: { ...slack.viewJson(home), state: { values: {} } }, actions: [action(button)] };
    } else {
      const msg = c.channel && c.ts ? slack.messages.get(`${c.channel}:${c.ts}`) : undefined;
      if (!msg || (msg.ephemeralFor && msg.ephemeralFor !== c.user)) throw new GoliveError('usage', 'That message is gone.');
      button = findButton(msg.blocks, c);
      const ephemeral = Boolean(msg.ephemeralFor);
      const channel = slack.channels.get(msg.channel)!;
      payload = {
        ...base,
        container: { type: 'message', message_ts: msg.ts, channel_id: msg.channel, is_ephemeral: ephemeral },
        channel: { id: channel.id, name: channel.name },
        // Slack leaves the message out of payloads from ephemeral messages.
        ...(ephemeral ? {} : { message: slack.messageJson(msg) }),
        response_url: this.responseUrl(slack.newResponseId({ user: c.user, channel: msg.channel, messageTs: msg.ts })),
        actions: [action(button)],
      };
    }
    const answer = await this.post(`payload=${encodeURIComponent(JSON.stringify(payload))}`, 'application/x-www-form-urlencoded');
    this.reportFailure(answer, c.user, c.channel, `the “${button.text}” button`);
    return answer;
  }

  /** Submits the person's open modal; returns the field errors the app answered with, if any (the modal then stays open). */
  async submit(user: string, viewId: string, values: Record<string, Record<string, unknown>>): Promise<{ errors?: Record<string, string> }> {
    const { slack } = this.deps;
    const person = this.person(user);
    const modal = slack.modalFor(user);
    if (!modal || modal.id !== viewId) throw new GoliveError('usage', 'That dialog is no longer open.');
    const payload = {
      type: 'view_submission',
      team: { id: SANDBOX_TEAM.id, domain: SANDBOX_TEAM.domain },
      user: { id: user, username: person.name.toLowerCase(), name: person.name.toLowerCase(), team_id: SANDBOX_TEAM.id },
      api_app_id: APP_ID,
      token: VERIFICATION_TOKEN,
      trigger_id: slack.newTrigger(user),
      view: { ...slack.viewJson(modal), state: { values } },
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    };
    const answer = await this.post(`payload=${encodeURIComponent(JSON.stringify(payload))}`, 'application/x-www-form-urlencoded');
    if (answer.status !== 200) {
      // Slack keeps the modal open and says it could not reach the app.
      return { errors: { _: `SANDBOX: the app answered HTTP ${answer.status}; Slack would say “We had some trouble connecting”.` } };
    }
    const reply = parseJson(answer.body) ?? {};
    if (reply.response_action === 'errors' && typeof reply.errors === 'object' && reply.errors !== null) return { errors: reply.errors as Record<string, string> };
    slack.applyResponseAction(user, viewId, reply);
    return {};
  }

  /** The person closed their modal; the app hears of it only if the view asked (`notify_on_close`), as with Slack. */
  async close(user: string, viewId: string): Promise<void> {
    const { slack } = this.deps;
    const person = this.person(user);
    const modal = slack.modalFor(user);
    if (!modal || modal.id !== viewId) return;
    slack.closeModal(user, viewId);
    if (modal.view.notify_on_close !== true) return;
    const payload = {
      type: 'view_closed',
      team: { id: SANDBOX_TEAM.id, domain: SANDBOX_TEAM.domain },
      user: { id: user, username: person.name.toLowerCase(), name: person.name.toLowerCase(), team_id: SANDBOX_TEAM.id },
      api_app_id: APP_ID,
      token: VERIFICATION_TOKEN,
      view: slack.viewJson(modal),
      is_cleared: false,
      is_enterprise_install: false,
      enterprise: null,
    };
    await this.post(`payload=${encodeURIComponent(JSON.stringify(payload))}`, 'application/x-www-form-urlencoded');
  }

  /** The person opened the app's Home tab. */
  async openHome(user: string): Promise<AppAnswer> {
    this.person(user);
    const now = Date.now() / 1000;
    const home = this.deps.slack.homes.get(user);
    const body = JSON.stringify({
      token: VERIFICATION_TOKEN,
      team_id: SANDBOX_TEAM.id,
      api_app_id: APP_ID,
      event: { type: 'app_home_opened', user, channel: `D0${user.slice(1)}`, tab: 'home', event_ts: now.toFixed(6), ...(home ? { view: this.deps.slack.viewJson(home) } : {}) },
      type: 'event_callback',
      event_id: `Ev${randomBytes(8).toString('hex').toUpperCase()}`,
      event_time: Math.floor(now),
      authorizations: [{ enterprise_id: null, team_id: SANDBOX_TEAM.id, user_id: 'U0GOLIVEBOT', is_bot: true, is_enterprise_install: false }],
    });
    return this.post(body, 'application/json');
  }

  private person(user: string) {
    const p = this.deps.slack.person(user);
    if (!p) throw new GoliveError('usage', `Nobody in the sandbox has the id ${user}.`);
    return p;
  }

  private responseUrl(id: string): string {
    return `${this.deps.baseUrl}/response/${id}`;
  }

  /** Slack tells the person when the app does not answer properly; so does the sandbox. */
  private reportFailure(answer: AppAnswer, user: string, channel: string | undefined, what: string): void {
    if (answer.status === 200 || !channel) return;
    const note: SimMessage = { channel, ts: '', text: `SANDBOX: ${what} failed: the app answered HTTP ${answer.status}${answer.body ? ` (${answer.body.slice(0, 200)})` : ''}.`, blocks: [], user: 'USLACKBOT', ephemeralFor: user, updates: 0 };
    this.deps.slack.note(note);
  }

  private async post(body: string, contentType: string): Promise<AppAnswer> {
    if (!this.appUrl) throw new Error('the sandbox is not connected to the app yet');
    const res = await fetch(this.appUrl, { method: 'POST', headers: { 'Content-Type': contentType, ...slackSignature(this.deps.signingSecret, body) }, body });
    return { status: res.status, body: await res.text() };
  }
}

function action(b: FoundButton): Body {
  return { action_id: b.actionId, block_id: b.blockId, text: { type: 'plain_text', text: b.text, emoji: true }, ...(b.value !== undefined ? { value: b.value } : {}), type: 'button', action_ts: (Date.now() / 1000).toFixed(6) };
}

/** The button the person clicked, looked up in the blocks they were shown (so a click cannot carry a value the bot never sent). */
function findButton(blocks: unknown, c: Click): FoundButton {
  const list = Array.isArray(blocks) ? (blocks as Body[]) : [];
  for (const [i, block] of list.entries()) {
    const blockId = typeof block.block_id === 'string' ? block.block_id : `sandbox-block-${i}`;
    if (c.blockId !== undefined && c.blockId !== blockId) continue;
    const elements = [...(Array.isArray(block.elements) ? (block.elements as Body[]) : []), ...(block.accessory ? [block.accessory as Body] : [])];
    for (const el of elements) {
      if (el.type !== 'button' || el.action_id !== c.actionId) continue;
      if (c.value !== undefined && el.value !== c.value) continue;
      const text = typeof (el.text as Body | undefined)?.text === 'string' ? String((el.text as Body).text) : c.actionId;
      return { blockId, actionId: c.actionId, ...(typeof el.value === 'string' ? { value: el.value } : {}), text };
    }
  }
  throw new GoliveError('usage', 'That button is no longer on the message.');
}

function parseJson(text: string): Body | undefined {
  if (!text.trim()) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Body) : undefined;
  } catch {
    return undefined;
  }
}
