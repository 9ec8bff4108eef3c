import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GoliveError } from '../platform/errors.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { CloudWatchSim } from './cloudwatch-sim.js';
import type { EcsSim } from './ecs-sim.js';
import type { EvidenceSim } from './evidence-sim.js';
import type { Interactions } from './interactions.js';
import type { PagerSim } from './pager-sim.js';
import { SANDBOX_BOT, SANDBOX_TEAM, type SlackSim } from './slack-sim.js';
import { webApiFormArgs } from './web-api-form.js';

type Body = Record<string, unknown>;

/** Everything the page's server needs. */
export interface SandboxServerDeps {
  runbook: Runbook;
  slack: SlackSim;
  ecs: EcsSim;
  cloudwatch: CloudWatchSim;
  pager: PagerSim;
  /** The checked facts and the email sent; absent, the page shows neither. */
  evidence?: EvidenceSim;
  /** Runs the checks of these items now, so a fact made false is seen at once. */
  verifyItems?(itemIds: string[]): Promise<void>;
  interactions: Interactions;
  /** Runs an alarm poll now, so a flipped alarm is seen at once rather than at the next scheduled poll. */
  pollAlarms(): Promise<void>;
  /** The app's `/healthz` answer. */
  appHealth(): Promise<{ status: number; body: string }>;
  /** The app's answer to a GET of `path` (the launch report's pages, which the app serves). */
  fromApp(path: string): Promise<{ status: number; headers: Record<string, string>; body: Buffer }>;
  /** Current change number; the page refetches when it moves. */
  version(): number;
  /** Registers an SSE client; returns the function that removes it. */
  subscribe(send: (version: number) => void): () => void;
  /**
   * Set when the sandbox listens on loopback only: requests naming another
   * host are refused, so a web page whose domain is re-pointed at 127.0.0.1
   * (DNS rebinding) cannot drive the sandbox.
   */
  loopbackOnly: boolean;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

const PAGE_DIR = new URL('./page/', import.meta.url);
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/sandbox/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/sandbox/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

/** Fields Slack's Web API accepts as JSON strings inside form bodies. */
const MAX_BODY = 1_000_000;

/**
 * The sandbox's one HTTP server: the page and its JSON API (`/sandbox/*`), the
 * simulated Slack Web API the app calls (`/api/<method>`), the response_urls
 * (`/response/<id>`), and the simulated smoke-check endpoint.
 */
export function createSandboxHandler(deps: SandboxServerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { slack, ecs, cloudwatch, pager, interactions, runbook } = deps;

  // Someone who owns checklist items, so a first visit can sign things off straight away.
  const owned = (roles: string[]) => runbook.gates.reduce((n, g) => n + g.items.filter((i) => roles.includes(i.owner)).length, 0);
  const firstPerson = [...slack.people()].sort((a, b) => owned(b.roles) - owned(a.roles))[0]!;

  function state(me: string): Body {
    const person = slack.person(me) ?? firstPerson;
    const modal = slack.modalFor(person.id);
    const home = slack.homes.get(person.id);
    return {
      version: deps.version(),
      team: SANDBOX_TEAM,
      bot: SANDBOX_BOT,
      launch: { name: runbook.launch.name, channel: runbook.launch.channel, timezone: runbook.launch.timezone },
      me: person.id,
      people: slack.people().map((p) => ({ id: p.id, name: p.name, roles: p.roleNames })),
      usergroups: slack.usergroups().map((g) => ({ id: g.id, handle: g.handle, name: g.name })),
      channels: [...slack.channels.values()].map((c) => ({ id: c.id, name: c.name, topic: c.topic, archived: c.archived, members: c.members.length })),
      messages: [...slack.messages.values()]
        .filter((m) => !m.ephemeralFor || m.ephemeralFor === person.id)
        .sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0))
        .map((m) => ({ channel: m.channel, ts: m.ts, text: m.text, blocks: m.blocks, user: m.user, ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}), ephemeral: Boolean(m.ephemeralFor), ...(m.kind ? { kind: m.kind } : {}), edited: m.updates > 0 })),
      modal: modal ? { id: modal.id, view: modal.view } : null,
      home: home ? { id: home.id, view: home.view } : null,
      world: { alarms: cloudwatch.view(), services: ecs.view(), pages: [...pager.events].reverse(), canaries: cloudwatch.canaryView(), evidence: deps.evidence?.view() ?? [], emails: deps.evidence?.emails ?? [] },
    };
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (deps.loopbackOnly && !LOOPBACK_HOSTS.has(hostname(req.headers.host))) return json(res, 403, { ok: false, error: 'The sandbox answers only requests addressed to 127.0.0.1 or localhost.' });

    const file = STATIC[path];
    if (method === 'GET' && file) {
      const content = await readFile(new URL(file.file, PAGE_DIR));
      res.writeHead(200, { 'Content-Type': file.type, 'Cache-Control': 'no-store' });
      res.end(content);
      return;
    }

    const api = /^\/api\/([A-Za-z0-9_.]+)$/.exec(path);
    if (api && method === 'POST') {
      const raw = await readBody(req);
      const args: Body = { ...webApiFormArgs(url.searchParams), ...parseArgs(raw, String(req.headers['content-type'] ?? '')) };
      const bearer = /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
      const token = bearer ?? (typeof args.token === 'string' ? args.token : undefined);
      delete args.token;
      return json(res, 200, slack.call(api[1]!, args, token));
    }

    const response = /^\/response\/([a-f0-9]+)$/.exec(path);
    if (response && method === 'POST') {
      const raw = await readBody(req);
      const body = parseJsonBody(raw);
      return json(res, body ? 200 : 400, body ? slack.respond(response[1]!, body) : { ok: false, error: 'invalid_json' });
    }

    const upload = /^\/sandbox\/upload\/(F\d+)$/.exec(path);
    if (upload && method === 'POST') {
      const ok = slack.receiveUpload(upload[1]!, await readBytes(req));
      res.writeHead(ok ? 200 : 400, { 'Content-Type': 'text/plain' }).end(ok ? 'OK' : 'upload refused');
      return;
    }

    const download = /^\/sandbox\/files\/(F\d+)\/[^/]+$/.exec(path);
    if (download && method === 'GET') {
      const f = slack.file(download[1]!);
      if (!f) return json(res, 404, { ok: false, error: 'file_not_found' });
      const type = f.name.endsWith('.png') ? 'image/png' : f.name.endsWith('.md') ? 'text/markdown; charset=utf-8' : 'application/octet-stream';
      res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' }).end(f.content);
      return;
    }

    // The report page is the app's own: the sandbox passes it through, so its link (the sandbox's address) opens.
    if (path.startsWith('/reports/') && method === 'GET') {
      const r = await deps.fromApp(path);
      res.writeHead(r.status, r.headers).end(r.body);
      return;
    }

    const smoke = /^\/sandbox\/smoke\/([a-z0-9-]+)$/.exec(path);
    if (smoke && method === 'GET') {
      const service = runbook.services.find((s) => s.name === smoke[1]);
      const expected = service?.smoke_check?.expect_text ?? '';
      res.writeHead(service ? (service.smoke_check?.expect_status ?? 200) : 404, { 'Content-Type': 'application/json' });
      const body = '{"status":"operational","sandbox":true}';
      res.end(service ? (body.includes(expected) ? body : `${body}\n${expected}`) : '{"error":"not_found"}');
      return;
    }

    if (path === '/healthz' && method === 'GET') {
      const h = await deps.appHealth();
      res.writeHead(h.status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(h.body);
      return;
    }

    if (path === '/sandbox/state' && method === 'GET') return json(res, 200, state(url.searchParams.get('user') ?? ''));

    if (path === '/sandbox/events' && method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
      const send = (version: number) => res.write(`event: change\ndata: ${version}\n\n`);
      send(deps.version());
      const unsubscribe = deps.subscribe(send);
      req.on('close', unsubscribe);
      return;
    }

    if (path.startsWith('/sandbox/') && method === 'POST') {
      // JSON only: a page on another site cannot send it without the browser asking first (CORS), so it cannot drive the sandbox.
      if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return json(res, 415, { ok: false, error: 'The sandbox API takes application/json.' });
      const body = parseJsonBody(await readBody(req));
      if (!body) return json(res, 400, { ok: false, error: 'The body is not a JSON object.' });
      return json(res, 200, { ok: true, ...(await action(path, body)) });
    }

    json(res, 404, { ok: false, error: 'not_found' });
  }

  async function action(path: string, b: Body): Promise<Body> {
    const user = text(b.user, 'user');
    switch (path) {
      case '/sandbox/command': {
        const answer = await interactions.command(user, text(b.channel, 'channel'), typeof b.text === 'string' ? b.text : '');
        return { status: answer.status };
      }
      case '/sandbox/click': {
        const answer = await interactions.click({ user, channel: opt(b.channel), ts: opt(b.ts), view: opt(b.view), actionId: text(b.action_id, 'action_id'), blockId: opt(b.block_id), value: opt(b.value) });
        return { status: answer.status };
      }
      case '/sandbox/view/submit':
        return interactions.submit(user, text(b.view, 'view'), (typeof b.values === 'object' && b.values !== null ? b.values : {}) as Record<string, Record<string, unknown>>);
      case '/sandbox/view/close':
        await interactions.close(user, text(b.view, 'view'));
        return {};
      case '/sandbox/home': {
        const answer = await interactions.openHome(user);
        return { status: answer.status };
      }
      case '/sandbox/alarm': {
        const to = text(b.state, 'state');
        if (to !== 'OK' && to !== 'ALARM' && to !== 'INSUFFICIENT_DATA') throw new GoliveError('usage', 'state must be OK, ALARM or INSUFFICIENT_DATA');
        cloudwatch.setState(text(b.name, 'name'), to);
        await deps.pollAlarms();
        return {};
      }
      case '/sandbox/canary':
        // The next analysis interval reads the canary's metrics as failing (or passing again).
        cloudwatch.setCanaryFailing(text(b.service, 'service'), b.failing === true);
        return {};
      case '/sandbox/ecs/fail-next':
        ecs.setFailNext(text(b.service, 'service'), b.fail === true);
        return {};
      case '/sandbox/evidence': {
        if (!deps.evidence) throw new GoliveError('usage', 'This sandbox simulates no checked facts.');
        const item = text(b.item, 'item');
        if (!deps.evidence.view().some((f) => f.id === item)) throw new GoliveError('usage', `No checked item ${item} the sandbox answers.`);
        deps.evidence.setBroken(item, b.broken === true);
        await deps.verifyItems?.([item]);
        return {};
      }
      default:
        throw new GoliveError('usage', `The sandbox has no action ${path}.`);
    }
  }

  return (req, res) => {
    route(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.end();
      const message = err instanceof Error ? err.message : String(err);
      json(res, err instanceof GoliveError ? 400 : 500, { ok: false, error: message });
    });
  };
}

/** `127.0.0.1:3000` → `127.0.0.1`; `[::1]:3000` → `[::1]`. */
function hostname(host: string | undefined): string {
  if (!host) return '';
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '');
}

function text(v: unknown, name: string): string {
  if (typeof v !== 'string' || v === '') throw new GoliveError('usage', `${name} is missing`);
  return v;
}

function opt(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(payload), 'Cache-Control': 'no-store' });
  res.end(payload);
}

async function readBody(req: IncomingMessage): Promise<string> {
  return (await readBytes(req)).toString('utf8');
}

function readBytes(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new GoliveError('usage', 'The request body is too large.'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseJsonBody(raw: string): Body | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Body) : undefined;
  } catch {
    return undefined;
  }
}

function parseArgs(raw: string, contentType: string): Body {
  if (!raw) return {};
  if (contentType.includes('application/json')) return parseJsonBody(raw) ?? {};
  return webApiFormArgs(new URLSearchParams(raw));
}

