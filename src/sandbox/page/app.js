/* global document, window, fetch, EventSource, localStorage, URLSearchParams, setTimeout, clearTimeout */
// The golive sandbox page: a Slack-like channel view over the sandbox's JSON API.
// Plain browser JavaScript on purpose: no build step, nothing fetched from elsewhere.

const $ = (id) => document.getElementById(id);

const EMOJI = {
  rotating_light: '🚨', white_check_mark: '✅', heavy_check_mark: '✔️', warning: '⚠️', x: '❌', rocket: '🚀',
  red_circle: '🔴', large_green_circle: '🟢', large_yellow_circle: '🟡', white_circle: '⚪', hourglass: '⌛',
  hourglass_flowing_sand: '⏳', rewind: '⏪', arrow_backward: '◀️', arrow_forward: '▶️', tada: '🎉', bell: '🔔',
  pager: '📟', no_entry: '⛔', no_entry_sign: '🚫', eyes: '👀', fire: '🔥', information_source: 'ℹ️', lock: '🔒',
  stopwatch: '⏱️', memo: '📝', clipboard: '📋', construction: '🚧', sos: '🆘', thumbsup: '👍', '+1': '👍',
  checkered_flag: '🏁', calendar: '📅', busts_in_silhouette: '👥', bust_in_silhouette: '👤', link: '🔗',
  arrows_counterclockwise: '🔄', repeat: '🔁', ship: '🚢', package: '📦', mag: '🔍', wrench: '🔧', zap: '⚡',
};

let me = new URLSearchParams(window.location.search).get('as') || localStorage.getItem('golive-sandbox-person') || '';
let channel = '';
let state = null;
let renderedModal = '';
// What each part was last drawn from: a part is redrawn only when it changed, so a click or a selection is not lost to an unrelated update.
const drawn = { messages: '', world: '', person: '' };
let modalSubmitting = false;
let refreshTimer;

function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** Slack encodes only these three in message text. */
function decodeSlack(s) {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function emoji(html) {
  return html.replace(/:([a-z0-9_+-]+):/g, (m, name) => EMOJI[name] ?? m);
}

function personName(id) {
  if (state && id === state.bot.userId) return state.bot.name;
  return state?.people.find((p) => p.id === id)?.name ?? id;
}

/** One `<…>` token of Slack's mrkdwn: a mention, a channel, a group, a date, or a link. */
function token(inner) {
  const [target, label] = splitOnce(inner, '|');
  if (target.startsWith('@')) {
    const id = target.slice(1);
    return `<span class="mention${id === me ? ' me' : ''}" data-user="${esc(id)}">@${esc(label || personName(id).toLowerCase())}</span>`;
  }
  if (target.startsWith('#')) {
    const id = target.slice(1);
    const name = label || state?.channels.find((c) => c.id === id)?.name || id;
    return `<a href="#" class="mention" data-goto="${esc(id)}">#${esc(name)}</a>`;
  }
  if (target.startsWith('!subteam^')) {
    const id = target.slice('!subteam^'.length);
    const group = state?.usergroups.find((g) => g.id === id);
    return `<span class="mention">${esc(label || `@${group?.handle ?? id}`)}</span>`;
  }
  if (target.startsWith('!date^')) return slackDate(target, label);
  if (target.startsWith('!')) return `<span class="mention">@${esc(target.slice(1))}</span>`;
  if (/^(https?:|mailto:)/i.test(target)) return `<a href="${esc(target)}" target="_blank" rel="noopener noreferrer">${esc(decodeSlack(label || target))}</a>`;
  return esc(decodeSlack(inner));
}

/**
 * `<!date^unix^format|fallback>` as Slack shows it: the tokens of `format` in
 * the reader's own time zone (here, the browser's); the fallback when the
 * date cannot be read. https://api.slack.com/reference/surfaces/formatting#date-formatting
 */
function slackDate(target, fallback) {
  const [, seconds, format] = target.split('^');
  const when = new Date(Number(seconds) * 1000);
  if (!format || !/^\d+$/.test(seconds ?? '') || Number.isNaN(when.getTime())) return esc(fallback || target);
  const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const pretty = (plain) => {
    const diff = Math.round((day(when) - day(new Date())) / 86_400_000);
    return diff === 0 ? 'today' : diff === -1 ? 'yesterday' : diff === 1 ? 'tomorrow' : plain;
  };
  const date = when.toLocaleDateString('en-US', { month: 'long', day: 'numeric', year: 'numeric' });
  const short = when.toLocaleDateString('en-US', { month: 'short', day: 'numeric', year: 'numeric' });
  const long = when.toLocaleDateString('en-US', { weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' });
  const pad = (n) => String(n).padStart(2, '0');
  const tokens = {
    date_num: `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())}`,
    date,
    date_short: short,
    date_long: long,
    date_pretty: pretty(date),
    date_short_pretty: pretty(short),
    date_long_pretty: pretty(long),
    time: when.toLocaleTimeString('en-US', { hour: 'numeric', minute: '2-digit' }),
    time_secs: when.toLocaleTimeString('en-US', { hour: 'numeric', minute: '2-digit', second: '2-digit' }),
    ago: ago(when),
  };
  const text = format.replace(/\{(\w+)\}/g, (m, name) => tokens[name] ?? m);
  return `<time datetime="${esc(when.toISOString())}" title="${esc(fallback)}">${esc(text)}</time>`;
}

/** Slack's `{ago}`: "3 minutes ago", "in 25 minutes". */
function ago(when) {
  const s = Math.round((when.getTime() - Date.now()) / 1000);
  const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  for (const [unit, size] of [['day', 86_400], ['hour', 3600], ['minute', 60]]) if (Math.abs(s) >= size) return rtf.format(Math.trunc(s / size), unit);
  return rtf.format(s, 'second');
}

function splitOnce(s, sep) {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
}

/** Slack mrkdwn to HTML: links and mentions, code, *bold*, _italic_, ~strike~, > quotes, emoji shortcodes. */
function mrkdwn(src) {
  const held = [];
  const hold = (html) => `\uE000${held.push(html) - 1}\uE001`;
  let s = String(src ?? '').replace(/<([^<>\n]+)>/g, (_m, inner) => hold(token(inner)));
  s = s.replace(/```([\s\S]*?)```/g, (_m, code) => hold(`<pre>${esc(decodeSlack(code.replace(/^\n/, '')))}</pre>`));
  s = s.replace(/`([^`\n]+)`/g, (_m, code) => hold(`<code>${esc(decodeSlack(code))}</code>`));
  s = esc(decodeSlack(s));
  s = s.replace(/(^|[^\w*])\*(?!\s)([^*\n]+?)\*(?!\w)/g, '$1<b>$2</b>');
  s = s.replace(/(^|[^\w_])_(?!\s)([^_\n]+?)_(?!\w)/g, '$1<i>$2</i>');
  s = s.replace(/(^|[^\w~])~(?!\s)([^~\n]+?)~(?!\w)/g, '$1<s>$2</s>');
  s = s
    .split('\n')
    .map((line) => (line.startsWith('&gt; ') ? `<blockquote>${line.slice(5)}</blockquote>` : line))
    .join('\n')
    .replace(/\n/g, '<br>')
    .replace(/<\/blockquote><br>/g, '</blockquote>');
  s = emoji(s);
  // Held pieces can nest (a code span holding a placeholder), so restore until none are left.
  for (let i = 0; i < 3 && s.includes('\uE000'); i++) s = s.replace(/\uE000(\d+)\uE001/g, (_m, n) => held[Number(n)]);
  return s;
}

function textObject(t) {
  if (!t) return '';
  return t.type === 'mrkdwn' ? mrkdwn(t.text) : emoji(esc(t.text)).replace(/\n/g, '<br>');
}

function button(el, where, blockId) {
  const style = el.style === 'primary' || el.style === 'danger' ? ` ${el.style}` : '';
  const attrs = [`data-action-id="${esc(el.action_id)}"`, `data-block-id="${esc(blockId ?? '')}"`];
  if (el.value !== undefined) attrs.push(`data-value="${esc(el.value)}"`);
  if (el.url) attrs.push(`data-url="${esc(el.url)}"`);
  for (const [k, v] of Object.entries(where)) attrs.push(`data-${k}="${esc(v)}"`);
  return `<button type="button" class="sb-btn${style}" ${attrs.join(' ')}>${emoji(esc(el.text?.text ?? 'Button'))}</button>`;
}

function element(el, where, blockId) {
  if (el.type === 'button') return button(el, where, blockId);
  if (el.type === 'mrkdwn' || el.type === 'plain_text') return `<span>${textObject(el)}</span>`;
  if (el.type === 'image') return `<span title="image">[${esc(el.alt_text ?? 'image')}]</span>`;
  return `<span class="b-unknown">[${esc(el.type)}]</span>`;
}

/** Block Kit to HTML. `where` says where a clicked button lives (a message, or a view). */
function blocks(list, where) {
  return (list || [])
    .map((b) => {
      switch (b.type) {
        case 'header':
          return `<div class="b-header">${textObject(b.text)}</div>`;
        case 'section': {
          const fields = b.fields?.length ? `<div class="b-fields">${b.fields.map((f) => `<div>${textObject(f)}</div>`).join('')}</div>` : '';
          const accessory = b.accessory ? element(b.accessory, where, b.block_id) : '';
          return `<div class="b-section"><div class="b-text">${textObject(b.text)}${fields}</div>${accessory}</div>`;
        }
        case 'context':
          return `<div class="b-context">${(b.elements || []).map((e) => element(e, where, b.block_id)).join('')}</div>`;
        case 'divider':
          return '<hr class="b-divider">';
        case 'actions':
          return `<div class="b-actions">${(b.elements || []).map((e) => element(e, where, b.block_id)).join('')}</div>`;
        case 'input':
          return input(b);
        case 'image':
          return `<div class="b-context">[image: ${esc(b.alt_text ?? '')}]</div>`;
        default:
          return `<div class="b-unknown">[${esc(b.type)} block]</div>`;
      }
    })
    .join('');
}

function input(b) {
  const el = b.element || {};
  const id = `in-${esc(b.block_id)}`;
  const label = `<label for="${id}">${esc(b.label?.text ?? '')}${b.optional ? ' <span class="optional">(optional)</span>' : ''}</label>`;
  const data = `id="${id}" data-input-block="${esc(b.block_id)}" data-input-action="${esc(el.action_id)}" data-input-type="${esc(el.type)}"`;
  let field;
  if (el.type === 'static_select') {
    const options = (el.options || []).map((o) => `<option value="${esc(o.value)}">${esc(o.text?.text ?? o.value)}</option>`).join('');
    field = `<select ${data}><option value="">Select an item</option>${options}</select>`;
  } else if (el.multiline) {
    field = `<textarea ${data} placeholder="${esc(el.placeholder?.text ?? '')}"></textarea>`;
  } else {
    field = `<input ${data} placeholder="${esc(el.placeholder?.text ?? '')}">`;
  }
  return `<div class="b-input">${label}${field}<div class="field-error" data-error-for="${esc(b.block_id)}"></div></div>`;
}

function time(ts) {
  const d = new Date(Number(ts) * 1000);
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function message(m) {
  if (m.kind === 'command') return `<div class="command-echo" data-ts="${esc(m.ts)}">Only visible to you: you ran <code>${esc(m.text)}</code></div>`;
  const isBot = m.user === state.bot.userId;
  const isSlackbot = m.user === 'USLACKBOT';
  const name = isSlackbot ? 'Slackbot' : personName(m.user);
  const content = m.blocks?.length ? blocks(m.blocks, { channel: m.channel, ts: m.ts }) : `<div>${mrkdwn(m.text)}</div>`;
  return `<div class="message${m.ephemeral ? ' ephemeral' : ''}" data-ts="${esc(m.ts)}">
    <div class="avatar${isBot ? ' bot' : isSlackbot ? ' slackbot' : ''}">${esc(name.slice(0, 1).toUpperCase())}</div>
    <div class="body">
      ${m.ephemeral ? '<div class="only-you">👁 Only visible to you</div>' : ''}
      <div class="meta"><span class="name">${esc(name)}</span>${isBot ? '<span class="app-badge">APP</span>' : ''}<span class="time">${time(m.ts)}</span>${m.edited ? '<span class="edited">(edited)</span>' : ''}</div>
      <div class="content">${content}</div>
    </div>
  </div>`;
}

function renderChannels() {
  $('channels').innerHTML = state.channels
    .map((c) => `<li><button type="button" class="channel-link${c.id === channel ? ' active' : ''}${c.archived ? ' archived' : ''}" data-channel="${esc(c.id)}"># ${esc(c.name)}</button></li>`)
    .join('');
  $('home-link').classList.toggle('active', channel === 'home');
}

function renderMessages() {
  const box = $('messages');
  const key = JSON.stringify([channel, me, channel === 'home' ? state.home : state.messages.filter((m) => m.channel === channel), state.channels, state.people]);
  if (key === drawn.messages) return;
  drawn.messages = key;
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  if (channel === 'home') {
    $('channel-title').textContent = 'golive · Home';
    $('channel-topic').textContent = 'App Home, as the app published it for you';
    box.innerHTML = state.home ? `<div class="message"><div></div><div class="body">${blocks(state.home.view.blocks, { view: state.home.id })}</div></div>` : '<div class="empty">golive has not published a Home tab for you yet.</div>';
    $('composer').hidden = true;
    return;
  }
  $('composer').hidden = false;
  const ch = state.channels.find((c) => c.id === channel);
  $('channel-title').textContent = `# ${ch?.name ?? channel}${ch?.archived ? ' (archived)' : ''}`;
  $('channel-topic').innerHTML = ch?.topic ? mrkdwn(ch.topic) : '';
  $('message-box').placeholder = `Message #${ch?.name ?? ''} as ${personName(me)} — e.g. /golive status`;
  const here = state.messages.filter((m) => m.channel === channel);
  const replies = new Map();
  for (const m of here) if (m.thread_ts && m.thread_ts !== m.ts) replies.set(m.thread_ts, [...(replies.get(m.thread_ts) ?? []), m]);
  const top = here.filter((m) => !m.thread_ts || m.thread_ts === m.ts || !here.some((p) => p.ts === m.thread_ts));
  box.innerHTML = top.length
    ? top
        .map((m) => {
          const thread = replies.get(m.ts) ?? [];
          return message(m) + (thread.length ? `<div class="thread-count">${thread.length} ${thread.length === 1 ? 'reply' : 'replies'}</div><div class="thread" data-thread="${esc(m.ts)}">${thread.map(message).join('')}</div>` : '');
        })
        .join('')
    : '<div class="empty">No messages yet. Try <code>/golive status</code>.</div>';
  if (nearBottom) box.scrollTop = box.scrollHeight;
}

function renderPerson() {
  const key = JSON.stringify([me, state.people]);
  if (key === drawn.person) return;
  drawn.person = key;
  const select = $('person');
  select.innerHTML = state.people.map((p) => `<option value="${esc(p.id)}"${p.id === me ? ' selected' : ''}>${esc(p.name)} — ${esc(p.roles.join(', ') || 'no role')}</option>`).join('');
  const p = state.people.find((x) => x.id === me);
  $('person-roles').textContent = p ? `${p.id} · ${p.roles.join(', ') || 'no role in the runbook'}` : '';
}

function renderWorld() {
  const key = JSON.stringify(state.world);
  if (key === drawn.world) return;
  drawn.world = key;
  const { alarms, services, pages, evidence = [], emails = [] } = state.world;
  const canaries = new Map((state.world.canaries ?? []).map((c) => [c.service, c]));
  $('alarms').innerHTML = alarms.length
    ? alarms
        .map(
          (a) => `<li class="alarm" data-alarm="${esc(a.name)}">
      <span class="name">${esc(a.name)}</span>
      <span class="controls"><span class="state ${esc(a.state)}">${esc(a.state)}</span>
        <button type="button" class="sb-btn small danger" data-alarm-set="ALARM" data-alarm-name="${esc(a.name)}" ${a.state === 'ALARM' ? 'disabled' : ''} aria-label="Set ${esc(a.name)} to ALARM">ALARM</button>
        <button type="button" class="sb-btn small" data-alarm-set="OK" data-alarm-name="${esc(a.name)}" ${a.state === 'OK' ? 'disabled' : ''} aria-label="Set ${esc(a.name)} to OK">OK</button></span>
    </li>`,
        )
        .join('')
    : '<li class="empty">The runbook has no alarms section.</li>';
  $('services').innerHTML = services.length
    ? services
        .map(
          (s) => `<div class="service" data-service="${esc(s.name)}">
      <div class="title">${esc(s.name)} <span class="badge">SANDBOX</span></div>
      <div>${esc(s.cluster)} / ${esc(s.service)} (${esc(s.region)})</div>
      <div>Running <b>${esc(s.taskDefinition)}</b> · ${s.runningCount}/${s.desiredCount} tasks</div>
      <div class="image"><code>${esc((s.image ?? '').split('/').pop())}</code></div>
      ${s.rollout ? `<div class="rollout">Rollout of ${esc(s.rollout.taskDefinition)}: <b>${esc(s.rollout.state)}</b> ${s.rollout.running}/${s.rollout.desired}${s.rollout.reason ? ` — ${esc(s.rollout.reason)}` : ''}</div>` : ''}
      <label><input type="checkbox" data-fail-next="${esc(s.name)}" ${s.failNext ? 'checked' : ''}> Make the next rollout fail</label>
      ${canaries.has(s.name) ? `<label><input type="checkbox" data-canary-fail="${esc(s.name)}" ${canaries.get(s.name).failing ? 'checked' : ''}> Make its canary fail the analysis (5xx above the stable version)</label>` : ''}
      <div class="revisions">Revisions: ${s.revisions.map((r) => `:${r.revision} ${esc((r.image ?? '').split(':').pop())}`).join(' · ')}</div>
    </div>`,
        )
        .join('')
    : '<div class="empty">The runbook has no services.</div>';
  $('pages').innerHTML = pages.length
    ? pages
        .map((p) => `<li class="page"><span class="action ${esc(p.action)}">${esc(p.action)}</span> ${esc(p.severity ?? '')} <span class="time">${esc(new Date(p.at).toLocaleTimeString())}</span><div>${esc(p.summary ?? p.dedupKey)}</div></li>`)
        .join('')
    : '<li class="empty">No pages sent yet.</li>';
  $('evidence').innerHTML = evidence.length
    ? evidence
        .map(
          (f) => `<li class="fact${f.broken ? ' broken' : ''}" data-fact="${esc(f.id)}">
      <div class="name"><code>${esc(f.id)}</code> ${esc(f.fact)}</div>
      <label><input type="checkbox" data-break-fact="${esc(f.id)}" ${f.broken ? 'checked' : ''} aria-label="Make the check of ${esc(f.id)} fail"> Make it fail</label>
    </li>`,
        )
        .join('')
    : '<li class="empty">No item of the runbook has a check the sandbox answers.</li>';
  $('emails').innerHTML = emails.length
    ? [...emails]
        .reverse()
        .map((m) => `<li class="email"><div class="subject">${esc(m.subject)}</div><div class="to">to ${esc(m.to.join(', '))} <span class="time">${esc(new Date(m.at).toLocaleTimeString())}</span></div><pre>${esc(m.text)}</pre></li>`)
        .join('')
    : '<li class="empty">No email sent yet.</li>';
}

function renderModal() {
  const modal = state.modal;
  const key = modal ? `${modal.id}:${JSON.stringify(modal.view)}` : '';
  if (key === renderedModal) return;
  renderedModal = key;
  $('modal-backdrop').hidden = !modal;
  if (!modal) return;
  const v = modal.view;
  $('modal-title').textContent = v.title?.text ?? '';
  $('modal-submit').textContent = v.submit?.text ?? 'Submit';
  $('modal-submit').hidden = !v.submit;
  $('modal-close').textContent = v.close?.text ?? 'Cancel';
  $('modal-body').innerHTML = blocks(v.blocks, { view: modal.id });
  $('modal-error').textContent = '';
  const first = $('modal-body').querySelector('input, textarea, select');
  if (first) first.focus();
}

function render() {
  if (!state) return;
  $('launch-name').textContent = state.launch.name;
  if (!channel || (channel !== 'home' && !state.channels.some((c) => c.id === channel))) channel = state.launch.channel;
  renderPerson();
  renderChannels();
  renderMessages();
  renderWorld();
  renderModal();
}

async function refresh() {
  const res = await fetch(`/sandbox/state?user=${encodeURIComponent(me)}`);
  state = await res.json();
  if (me !== state.me) {
    me = state.me;
    localStorage.setItem('golive-sandbox-person', me);
  }
  render();
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => void refresh(), 30);
}

function toast(text) {
  const t = $('toast');
  t.textContent = text;
  t.hidden = false;
  setTimeout(() => (t.hidden = true), 4000);
}

async function post(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: me, ...body }) });
  const answer = await res.json().catch(() => ({ ok: false, error: `HTTP ${res.status}` }));
  if (!answer.ok) toast(answer.error ?? 'The sandbox refused that.');
  scheduleRefresh();
  return answer;
}

$('composer').addEventListener('submit', (e) => {
  e.preventDefault();
  const box = $('message-box');
  const text = box.value.trim();
  if (!text) return;
  if (!text.startsWith('/golive')) {
    toast('Only /golive commands reach the bot in the sandbox, e.g. /golive status');
    return;
  }
  box.value = '';
  void post('/sandbox/command', { channel, text });
});

document.addEventListener('click', (e) => {
  const target = e.target instanceof window.Element ? e.target : null;
  const btn = target?.closest('[data-action-id]');
  if (btn) {
    e.preventDefault();
    if (btn.dataset.url) window.open(btn.dataset.url, '_blank', 'noopener');
    btn.disabled = true;
    const d = btn.dataset;
    void post('/sandbox/click', { channel: d.channel, ts: d.ts, view: d.view, action_id: d.actionId, block_id: d.blockId || undefined, value: d.value }).finally(() => (btn.disabled = false));
    return;
  }
  const link = target?.closest('[data-channel]');
  if (link) {
    channel = link.dataset.channel;
    if (channel === 'home') void post('/sandbox/home', {});
    render();
    return;
  }
  const goto = target?.closest('[data-goto]');
  if (goto) {
    e.preventDefault();
    channel = goto.dataset.goto;
    render();
    return;
  }
  const alarm = target?.closest('[data-alarm-set]');
  if (alarm) {
    alarm.disabled = true;
    void post('/sandbox/alarm', { name: alarm.dataset.alarmName, state: alarm.dataset.alarmSet }).finally(() => (alarm.disabled = false));
  }
});

document.addEventListener('change', (e) => {
  const t = e.target;
  if (t.id === 'person') {
    me = t.value;
    localStorage.setItem('golive-sandbox-person', me);
    renderedModal = '';
    void refresh().then(() => channel === 'home' && post('/sandbox/home', {}));
  } else if (t.dataset?.canaryFail) {
    void post('/sandbox/canary', { service: t.dataset.canaryFail, failing: t.checked });
  } else if (t.dataset?.failNext) {
    void post('/sandbox/ecs/fail-next', { service: t.dataset.failNext, fail: t.checked });
  } else if (t.dataset?.breakFact) {
    void post('/sandbox/evidence', { item: t.dataset.breakFact, broken: t.checked });
  }
});

function closeModal() {
  if (!state?.modal) return;
  void post('/sandbox/view/close', { view: state.modal.id });
}
$('modal-close').addEventListener('click', closeModal);
$('modal-x').addEventListener('click', closeModal);

$('modal').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!state?.modal || modalSubmitting) return;
  const values = {};
  for (const el of $('modal-body').querySelectorAll('[data-input-block]')) {
    const block = el.dataset.inputBlock;
    const action = el.dataset.inputAction;
    values[block] ??= {};
    if (el.dataset.inputType === 'static_select') {
      const opt = el.selectedOptions[0];
      values[block][action] = { type: 'static_select', selected_option: el.value ? { text: { type: 'plain_text', text: opt.textContent, emoji: true }, value: el.value } : null };
    } else {
      values[block][action] = { type: 'plain_text_input', value: el.value === '' ? null : el.value };
    }
  }
  modalSubmitting = true;
  const answer = await post('/sandbox/view/submit', { view: state.modal.id, values }).finally(() => (modalSubmitting = false));
  for (const el of $('modal').querySelectorAll('[data-error-for]')) el.textContent = answer.errors?.[el.dataset.errorFor] ?? '';
  $('modal-error').textContent = answer.errors?._ ?? '';
});

const events = new EventSource('/sandbox/events');
events.addEventListener('change', scheduleRefresh);
void refresh();
