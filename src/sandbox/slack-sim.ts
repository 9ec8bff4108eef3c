import { randomBytes } from 'node:crypto';
import { messageContentError, slackError, viewError } from './block-limits.js';
import type { SandboxDirectory, SandboxPerson } from './people.js';

type Body = Record<string, unknown>;

/** The bot's own user in the sandbox workspace. */
export const SANDBOX_BOT = { userId: 'U0GOLIVEBOT', botId: 'B0GOLIVEBOT', name: 'golive' } as const;
export const SANDBOX_TEAM = { id: 'T0SANDBOX', name: 'golive sandbox', domain: 'golive-sandbox' } as const;

/** A message in a channel as the sandbox holds it, after any `chat.update`. */
export interface SimMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
  thread_ts?: string;
  /** Who posted it: the bot, or a person (the echo of a command they typed). */
  user: string;
  /** Set: only this person sees it (`chat.postEphemeral`, private replies to commands and clicks). */
  ephemeralFor?: string;
  /** `command`: the echo of a slash command, which Slack shows only to whoever typed it. */
  kind?: 'command';
  /** Number of `chat.update`s (or replacing responses) applied. */
  updates: number;
}

/** A channel: the runbook's ops channel, or one the bot created (incident channels). */
export interface SimChannel {
  id: string;
  name: string;
  topic: string;
  is_private: boolean;
  archived: boolean;
  members: string[];
}

/** A modal or App Home view the bot opened or published. */
export interface SimView {
  id: string;
  user: string;
  hash: string;
  view: Body;
}

/** Where the answer to a response_url goes. */
export interface ResponseTarget {
  user: string;
  channel: string;
  /** The message whose button was clicked (replace_original / delete_original act on it). */
  messageTs?: string;
}

/** Everything needed to bring a session back after a restart. */
export interface SlackSimSnapshot {
  version: 1;
  channels: SimChannel[];
  messages: SimMessage[];
  homes: SimView[];
  lastTs: number;
  channelCounter: number;
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  return typeof v === 'string' ? v : String(v);
}

function isObject(v: unknown): v is Body {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A Slack workspace in memory that answers the Web API methods golive calls,
 * with Slack's answers and errors, so every message the page shows is one the
 * real bot really sent. The sandbox server routes `POST /api/<method>` and
 * response_url posts here; the page reads the state.
 */
export class SlackSim {
  readonly channels = new Map<string, SimChannel>();
  readonly messages = new Map<string, SimMessage>();
  readonly homes = new Map<string, SimView>();
  private readonly modals = new Map<string, SimView[]>();
  private readonly triggers = new Map<string, string>();
  private readonly responseTargets = new Map<string, ResponseTarget>();
  private readonly listeners: (() => void)[] = [];
  private lastTs = 0;
  private channelCounter = 0;
  private viewCounter = 0;
  /** Files shared through files.uploadV2's steps; kept in memory only (a restart keeps the messages, not the bytes). */
  private readonly files = new Map<string, { name: string; length: number; content?: Buffer; shared: boolean }>();
  private fileCounter = 0;
  /** Where the sandbox page serves uploads and files (set once it listens). */
  filesBaseUrl = '';

  constructor(
    private readonly opts: {
      directory: SandboxDirectory;
      /** The bot token the app must present. */
      token: string;
      opsChannel: { id: string; name: string };
      now?: () => number;
      snapshot?: SlackSimSnapshot;
    },
  ) {
    const s = opts.snapshot;
    if (s) {
      for (const c of s.channels) this.channels.set(c.id, c);
      for (const m of s.messages) this.messages.set(key(m.channel, m.ts), m);
      for (const h of s.homes) this.homes.set(h.user, h);
      this.lastTs = s.lastTs;
      this.channelCounter = s.channelCounter;
    }
    if (!this.channels.has(opts.opsChannel.id)) {
      this.channels.set(opts.opsChannel.id, { id: opts.opsChannel.id, name: opts.opsChannel.name, topic: '', is_private: false, archived: false, members: [SANDBOX_BOT.userId, ...this.people().map((p) => p.id)] });
    }
  }

  people(): SandboxPerson[] {
    return this.opts.directory.people;
  }

  usergroups(): { id: string; handle: string; name: string; users: string[] }[] {
    return [...this.opts.directory.usergroups.values()];
  }

  person(id: string): SandboxPerson | undefined {
    return this.opts.directory.people.find((p) => p.id === id);
  }

  /** Called after every change (to save the session and tell the page). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  snapshot(): SlackSimSnapshot {
    return { version: 1, channels: [...this.channels.values()], messages: [...this.messages.values()], homes: [...this.homes.values()], lastTs: this.lastTs, channelCounter: this.channelCounter };
  }

  /** A trigger_id for a command or click by `user`; `views.open` with it opens a modal for them. */
  newTrigger(user: string): string {
    const id = `${Math.floor(this.now() / 1000)}.${this.triggers.size + 1}.${randomBytes(8).toString('hex')}`;
    this.triggers.set(id, user);
    return id;
  }

  /** An id for a response_url; posts to it land according to `target`. */
  newResponseId(target: ResponseTarget): string {
    const id = randomBytes(12).toString('hex');
    this.responseTargets.set(id, target);
    return id;
  }

  /** Shows a typed slash command to the person who typed it, as Slack's composer would leave it on screen. */
  echoCommand(user: string, channel: string, text: string): void {
    this.add({ channel, ts: this.nextTs(), text, blocks: [], user, ephemeralFor: user, kind: 'command', updates: 0 });
  }

  /** A line from the sandbox itself (as Slackbot would say it), shown only to `note.ephemeralFor`; its ts is assigned here. */
  note(note: SimMessage): void {
    this.add({ ...note, ts: this.nextTs() });
  }

  /** The modal on top of `user`'s stack, if one is open. */
  modalFor(user: string): SimView | undefined {
    const stack = this.modals.get(user);
    return stack?.[stack.length - 1];
  }

  /** Closes `viewId` (and anything pushed above it) for `user`. */
  closeModal(user: string, viewId: string): void {
    const stack = this.modals.get(user) ?? [];
    const i = stack.findIndex((v) => v.id === viewId);
    if (i < 0) return;
    stack.splice(i);
    this.changed();
  }

  /** Replaces or pushes a modal after a view_submission answered `update` or `push`. */
  applyResponseAction(user: string, viewId: string, action: { response_action?: string; view?: unknown }): void {
    const stack = this.modals.get(user) ?? [];
    if (action.response_action === 'update' && isObject(action.view)) {
      const i = stack.findIndex((v) => v.id === viewId);
      if (i >= 0) stack[i] = this.makeView(user, action.view, viewId);
    } else if (action.response_action === 'push' && isObject(action.view)) {
      stack.push(this.makeView(user, action.view));
    } else if (action.response_action === 'clear') {
      stack.length = 0;
    } else {
      const i = stack.findIndex((v) => v.id === viewId);
      if (i >= 0) stack.splice(i);
    }
    this.modals.set(user, stack);
    this.changed();
  }

  /** A post to a response_url: a private reply to the person (or, `in_channel`, to everyone), or a change of the clicked message. */
  respond(id: string, body: Body): Body {
    const target = this.responseTargets.get(id);
    if (!target) return slackError('invalid_response_url');
    const original = target.messageTs ? this.messages.get(key(target.channel, target.messageTs)) : undefined;
    if (body.delete_original === true || body.delete_original === 'true') {
      if (original) {
        this.messages.delete(key(original.channel, original.ts));
        this.changed();
      }
      return { ok: true };
    }
    const problem = messageContentError(body, true);
    if (problem) return problem;
    const text = str(body.text) ?? '';
    const blocks = Array.isArray(body.blocks) ? body.blocks : [];
    if ((body.replace_original === true || body.replace_original === 'true') && original) {
      original.text = text;
      original.blocks = blocks;
      original.updates += 1;
      this.changed();
      return { ok: true };
    }
    const inChannel = body.response_type === 'in_channel';
    const threadTs = str(body.thread_ts) ?? original?.thread_ts;
    this.add({ channel: target.channel, ts: this.nextTs(), text, blocks, user: SANDBOX_BOT.userId, ...(threadTs ? { thread_ts: threadTs } : {}), ...(inChannel ? {} : { ephemeralFor: target.user }), updates: 0 });
    return { ok: true };
  }

  /** One Web API call. `token` is the bearer token the caller sent. */
  call(method: string, args: Body, token: string | undefined): Body {
    if (token === undefined) return slackError('not_authed');
    if (token !== this.opts.token) return slackError('invalid_auth');
    const handler = this.handlers[method];
    if (!handler) return slackError('unknown_method');
    return handler(args);
  }

  /** The bytes POSTed to an upload URL; false for an unknown, shared or wrong-length upload (Slack answers non-200). */
  receiveUpload(id: string, content: Buffer): boolean {
    const file = this.files.get(id);
    if (!file || file.shared || content.byteLength !== file.length) return false;
    file.content = content;
    return true;
  }

  /** A shared file's name and bytes, for the page's download link. */
  file(id: string): { name: string; content: Buffer } | undefined {
    const f = this.files.get(id);
    return f?.shared && f.content ? { name: f.name, content: f.content } : undefined;
  }

  private readonly handlers: Record<string, (args: Body) => Body> = {
    'files.getUploadURLExternal': (args) => {
      const name = str(args.filename);
      const length = Number(args.length);
      if (!name || !Number.isInteger(length) || length < 1) return slackError('invalid_arguments');
      this.fileCounter += 1;
      const id = `F${String(this.fileCounter).padStart(10, '0')}`;
      this.files.set(id, { name, length, shared: false });
      return { ok: true, upload_url: `${this.filesBaseUrl}/sandbox/upload/${id}`, file_id: id };
    },
    'files.completeUploadExternal': (args) => {
      const list = Array.isArray(args.files) ? (args.files as { id?: unknown; title?: unknown }[]) : [];
      if (list.length === 0) return slackError('invalid_arguments');
      const files = list.map((f) => ({ f, file: typeof f.id === 'string' ? this.files.get(f.id) : undefined }));
      if (files.some((x) => !x.file?.content || x.file.shared)) return slackError('file_not_found');
      for (const x of files) x.file!.shared = true;
      const channel = this.channelArg({ channel: args.channel_id });
      if (channel) {
        // The page shows a shared file as a message with a download link per file.
        const links = files.map(({ f, file }) => `📎 <${this.filesBaseUrl}/sandbox/files/${String(f.id)}/${encodeURIComponent(file!.name)}|${file!.name}>`).join('\n');
        const text = [str(args.initial_comment), links].filter(Boolean).join('\n');
        const threadTs = str(args.thread_ts);
        this.add({ channel: channel.id, ts: this.nextTs(), text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 3000) } }], user: SANDBOX_BOT.userId, updates: 0, ...(threadTs ? { thread_ts: threadTs } : {}) });
      }
      return { ok: true, files: list.map((f) => ({ id: f.id, title: f.title })) };
    },
    'auth.test': () => ({ ok: true, url: `https://${SANDBOX_TEAM.domain}.slack.com/`, team: SANDBOX_TEAM.name, user: SANDBOX_BOT.name, team_id: SANDBOX_TEAM.id, user_id: SANDBOX_BOT.userId, bot_id: SANDBOX_BOT.botId, is_enterprise_install: false }),
    'chat.postMessage': (args) => {
      const channel = this.channelArg(args);
      if (!channel) return slackError('channel_not_found');
      if (channel.archived) return slackError('is_archived');
      const problem = messageContentError(args, true);
      if (problem) return problem;
      // A thread_ts naming no message is accepted, as Slack does; the page shows such a reply in the channel.
      const threadTs = str(args.thread_ts);
      const msg: SimMessage = { channel: channel.id, ts: this.nextTs(), text: str(args.text) ?? '', blocks: Array.isArray(args.blocks) ? args.blocks : [], user: SANDBOX_BOT.userId, updates: 0, ...(threadTs ? { thread_ts: threadTs } : {}) };
      this.add(msg);
      return { ok: true, channel: channel.id, ts: msg.ts, message: this.messageJson(msg) };
    },
    'chat.update': (args) => {
      const channel = this.channelArg(args);
      if (!channel) return slackError('channel_not_found');
      const msg = this.messages.get(key(channel.id, str(args.ts) ?? ''));
      if (!msg || msg.ephemeralFor) return slackError('message_not_found');
      const problem = messageContentError(args, true);
      if (problem) return problem;
      // Slack keeps the previous text or blocks for whichever the update leaves out.
      if (args.text !== undefined) msg.text = str(args.text) ?? '';
      if (Array.isArray(args.blocks)) msg.blocks = args.blocks;
      msg.updates += 1;
      this.changed();
      return { ok: true, channel: channel.id, ts: msg.ts, text: msg.text, message: this.messageJson(msg) };
    },
    'chat.delete': (args) => {
      const channel = this.channelArg(args);
      if (!channel) return slackError('channel_not_found');
      const ts = str(args.ts) ?? '';
      if (!this.messages.delete(key(channel.id, ts))) return slackError('message_not_found');
      this.changed();
      return { ok: true, channel: channel.id, ts };
    },
    'chat.postEphemeral': (args) => {
      const channel = this.channelArg(args);
      if (!channel) return slackError('channel_not_found');
      const user = str(args.user);
      if (!user || !this.person(user)) return slackError('user_not_found');
      const problem = messageContentError(args, true);
      if (problem) return problem;
      const threadTs = str(args.thread_ts);
      const msg: SimMessage = { channel: channel.id, ts: this.nextTs(), text: str(args.text) ?? '', blocks: Array.isArray(args.blocks) ? args.blocks : [], user: SANDBOX_BOT.userId, ephemeralFor: user, updates: 0, ...(threadTs ? { thread_ts: threadTs } : {}) };
      this.add(msg);
      return { ok: true, message_ts: msg.ts };
    },
    'views.open': (args) => this.openModal(args, false),
    'views.push': (args) => this.openModal(args, true),
    'views.update': (args) => {
      const id = str(args.view_id);
      if (!id) return slackError('invalid_arguments', ['[ERROR] missing required field: view_id']);
      const problem = viewError(args.view, ['modal', 'home']);
      if (problem) return problem;
      for (const [user, stack] of this.modals) {
        const i = stack.findIndex((v) => v.id === id);
        if (i >= 0) {
          stack[i] = this.makeView(user, args.view as Body, id);
          this.changed();
          return { ok: true, view: this.viewJson(stack[i]!) };
        }
      }
      for (const [user, home] of this.homes) {
        if (home.id === id) {
          const view = this.makeView(user, args.view as Body, id);
          this.homes.set(user, view);
          this.changed();
          return { ok: true, view: this.viewJson(view) };
        }
      }
      return slackError('not_found');
    },
    'views.publish': (args) => {
      const user = str(args.user_id);
      if (!user || !this.person(user)) return slackError('user_not_found');
      const problem = viewError(args.view, ['home']);
      if (problem) return problem;
      const view = this.makeView(user, args.view as Body, this.homes.get(user)?.id);
      this.homes.set(user, view);
      this.changed();
      return { ok: true, view: this.viewJson(view) };
    },
    'users.info': (args) => {
      const id = str(args.user) ?? '';
      if (id === SANDBOX_BOT.userId) return { ok: true, user: { id, team_id: SANDBOX_TEAM.id, name: SANDBOX_BOT.name, real_name: 'golive', is_bot: true, deleted: false, profile: { real_name: 'golive', display_name: 'golive' } } };
      const p = this.person(id);
      return p ? { ok: true, user: this.userJson(p) } : slackError('user_not_found');
    },
    'users.lookupByEmail': (args) => {
      const email = (str(args.email) ?? '').toLowerCase();
      const p = this.people().find((x) => x.email === email);
      return p ? { ok: true, user: this.userJson(p) } : slackError('users_not_found');
    },
    'usergroups.users.list': (args) => {
      const group = this.opts.directory.usergroups.get(str(args.usergroup) ?? '');
      return group ? { ok: true, users: [...group.users] } : slackError('no_such_subteam');
    },
    'conversations.info': (args) => {
      const channel = this.channelArg(args);
      return channel ? { ok: true, channel: this.channelJson(channel) } : slackError('channel_not_found');
    },
    'conversations.create': (args) => {
      const name = str(args.name);
      if (!name) return slackError('invalid_name_required');
      if (name.length > 80) return slackError('invalid_name_maxlength');
      if (!/^[a-z0-9_-]+$/.test(name)) return slackError('invalid_name_specials');
      for (const c of this.channels.values()) if (c.name === name) return slackError('name_taken');
      this.channelCounter += 1;
      const channel: SimChannel = { id: `C0SANDBOX${String(this.channelCounter).padStart(3, '0')}`, name, topic: '', is_private: args.is_private === true || args.is_private === 'true', archived: false, members: [SANDBOX_BOT.userId] };
      this.channels.set(channel.id, channel);
      this.changed();
      return { ok: true, channel: this.channelJson(channel) };
    },
    'conversations.invite': (args) => {
      const channel = this.channelArg(args);
      if (!channel) return slackError('channel_not_found');
      const users = (str(args.users) ?? '').split(',').map((u) => u.trim()).filter(Boolean);
      if (users.length === 0) return slackError('no_user');
      if (users.includes(SANDBOX_BOT.userId)) return slackError('cant_invite_self');
      const unknown = users.filter((u) => !this.person(u));
      if (unknown.length > 0) return { ...slackError('user_not_found'), errors: unknown.map((user) => ({ user, ok: false, error: 'user_not_found' })) };
      const already = users.filter((u) => channel.members.includes(u));
      if (already.length > 0) return { ...slackError('already_in_channel'), errors: already.map((user) => ({ user, ok: false, error: 'already_in_channel' })) };
      channel.members.push(...users);
      this.changed();
      return { ok: true, channel: this.channelJson(channel) };
    },
    'conversations.setTopic': (args) => {
      const channel = this.channelArg(args);
      if (!channel) return slackError('channel_not_found');
      const topic = str(args.topic) ?? '';
      if (topic.length > 250) return slackError('too_long');
      channel.topic = topic;
      this.changed();
      return { ok: true, channel: this.channelJson(channel) };
    },
    'conversations.join': (args) => {
      const channel = this.channelArg(args);
      if (!channel) return slackError('channel_not_found');
      if (!channel.members.includes(SANDBOX_BOT.userId)) channel.members.push(SANDBOX_BOT.userId);
      return { ok: true, channel: this.channelJson(channel) };
    },
    'conversations.archive': (args) => {
      const channel = this.channelArg(args);
      if (!channel) return slackError('channel_not_found');
      if (channel.archived) return slackError('already_archived');
      channel.archived = true;
      this.changed();
      return { ok: true };
    },
  };

  private openModal(args: Body, push: boolean): Body {
    const trigger = str(args.trigger_id);
    if (!trigger) return slackError('invalid_arguments', ['[ERROR] missing required field: trigger_id']);
    const user = this.triggers.get(trigger);
    if (!user) return slackError('invalid_trigger_id');
    const problem = viewError(args.view, ['modal']);
    if (problem) return problem;
    const stack = this.modals.get(user) ?? [];
    if (push && stack.length === 0) return slackError('not_found');
    if (push && stack.length >= 3) return slackError('push_limit_reached');
    const view = this.makeView(user, args.view as Body);
    if (push) stack.push(view);
    else stack.splice(0, stack.length, view);
    this.modals.set(user, stack);
    this.changed();
    return { ok: true, view: this.viewJson(view) };
  }

  private makeView(user: string, view: Body, id?: string): SimView {
    this.viewCounter += 1;
    return { id: id ?? `V0SANDBOX${String(this.viewCounter).padStart(4, '0')}`, user, hash: `${this.now()}.${this.viewCounter}`, view };
  }

  /** A view as Slack returns it, and as an interaction payload carries it. */
  viewJson(v: SimView): Body {
    return { ...v.view, id: v.id, team_id: SANDBOX_TEAM.id, app_id: 'A0GOLIVE', bot_id: SANDBOX_BOT.botId, hash: v.hash, blocks: Array.isArray(v.view.blocks) ? v.view.blocks : [], private_metadata: str(v.view.private_metadata) ?? '', callback_id: str(v.view.callback_id) ?? '' };
  }

  messageJson(m: SimMessage): Body {
    return { type: 'message', text: m.text, blocks: m.blocks, ts: m.ts, user: m.user, ...(m.user === SANDBOX_BOT.userId ? { bot_id: SANDBOX_BOT.botId } : {}), ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}) };
  }

  private userJson(p: SandboxPerson): Body {
    const handle = p.name.toLowerCase();
    return { id: p.id, team_id: SANDBOX_TEAM.id, name: handle, real_name: p.name, deleted: false, is_bot: false, tz: 'UTC', profile: { email: p.email, display_name: handle, real_name: p.name, title: p.roleNames.join(', ') } };
  }

  private channelJson(c: SimChannel): Body {
    return { id: c.id, name: c.name, is_channel: true, is_private: c.is_private, is_archived: c.archived, is_member: c.members.includes(SANDBOX_BOT.userId), topic: { value: c.topic, creator: c.topic ? SANDBOX_BOT.userId : '', last_set: 0 }, purpose: { value: '', creator: '', last_set: 0 }, num_members: c.members.length };
  }

  private channelArg(args: Body): SimChannel | undefined {
    return this.channels.get(str(args.channel) ?? '');
  }

  private add(m: SimMessage): void {
    this.messages.set(key(m.channel, m.ts), m);
    this.changed();
  }

  /** Message timestamps like Slack's (`seconds.micros`), strictly increasing even across restarts. */
  private nextTs(): string {
    const micros = Math.max(this.now() * 1000, this.lastTs + 1);
    this.lastTs = micros;
    return `${Math.floor(micros / 1_000_000)}.${String(micros % 1_000_000).padStart(6, '0')}`;
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}

function key(channel: string, ts: string): string {
  return `${channel}:${ts}`;
}
