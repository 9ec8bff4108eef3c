import type { App, BlockAction, ButtonAction, RespondFn } from '@slack/bolt';
import type { CommandServices } from '../commands/command-spec.js';
import { describeError, GoliveError } from '../errors.js';
import { escapeText } from '../escape.js';
import { ACTION_CHECK_ITEM, ACTION_STATUS_PAGE } from '../../checklist/render-status.js';
import { renderError, renderNotice } from './blocks.js';
import { ACTION_GONOGO_GO, ACTION_GONOGO_NOGO, VIEW_GONOGO_VOTE, voteModal } from '../../gonogo/render-gonogo.js';
import { ACTION_ALARM_ACK, ACTION_ALARM_DECLARE } from '../../alarms/render-alarms.js';
import { ACTION_INCIDENT_ACK, ACTION_INCIDENT_ROLLBACK } from '../../incidents/incident-notifier.js';
import { field, VIEW_DECLARE, VIEW_RESOLVE, VIEW_UPDATE } from '../../incidents/incident-modals.js';
import { ACTION_APPROVE, ACTION_CANCEL, ACTION_REJECT, ACTION_ROLLBACK_FAILED_DEPLOY, renderAlreadyDecided } from '../../deploys/render-changes.js';
import { runCommand } from '../commands/run-command.js';
import type { SlackMessage } from './slack-port.js';
import { RequestRepository } from '../store/request-repository.js';
import { registerPinHandlers } from '../../incidents/pin-handlers.js';
import { ACTION_POST_REPORT } from '../../home/render-home.js';

function privately(respond: RespondFn) {
  return async (m: SlackMessage): Promise<void> => {
    await respond({ response_type: 'ephemeral', replace_original: false, text: m.text, blocks: m.blocks as never });
  };
}

/** Identifies one user action across Slack's retries: trigger_id for commands and clicks, event_id for events. */
function requestKey(body: Record<string, unknown>): string | undefined {
  if (typeof body.event_id === 'string') return `event:${body.event_id}`;
  if (typeof body.trigger_id === 'string') return `trigger:${body.trigger_id}`;
  return undefined;
}

/** Wires `/golive`, the buttons and App Home to the services. */
export function registerHandlers(app: App, services: CommandServices, options: { slowReplyMs?: number } = {}): void {
  const { slack, store, clock, logger, checklist, statusBoard, approvals, deploys, changeBoard, runbook } = services;
  const requests = new RequestRepository(store);

  // Slack re-sends a request it thinks we missed (X-Slack-Retry-Num); the same
  // user action must not run twice, so a seen request is acknowledged and dropped.
  app.use(async (args) => {
    const body = args.body as unknown as Record<string, unknown>;
    const key = requestKey(body);
    let first = true;
    try {
      first = !key || (await requests.claim(key, clock.now().toISOString()));
    } catch (err) {
      // A broken database must not swallow the request: the handler will report the failure to the user.
      logger.error({ err, key }, 'could not record the request for de-duplication');
    }
    if (!first) {
      logger.info({ key, retryNum: args.context.retryNum }, 'duplicate request ignored');
      if ('ack' in args && typeof args.ack === 'function') await (args.ack as () => Promise<void>)();
      return;
    }
    await args.next();
  });

  /**
   * A button handler: acknowledged at once (Slack's 3-second deadline), its
   * work after, and any error turned into a private reply by the one handler.
   */
  const knownActions: (string | RegExp)[] = [];
  const knownViews = new Set<string>();

  function onButton(actionId: string | RegExp, run: (click: { body: BlockAction<ButtonAction>; action: ButtonAction; reply: (m: SlackMessage) => Promise<void> }) => Promise<unknown>): void {
    knownActions.push(actionId);
    app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, action, respond }) => {
      await ack();
      const reply = privately(respond);
      try {
        await run({ body, action, reply });
      } catch (err) {
        await reply(renderError(describeError(err, logger, { action: action.action_id, user: body.user.id })));
      }
    });
  }

  app.command('/golive', async ({ command, ack, respond }) => {
    await ack(); // within Slack's 3 seconds; the work and the reply follow
    const sendPrivately = privately(respond);
    let answered = false;
    const reply = (m: SlackMessage) => {
      answered = true;
      return sendPrivately(m);
    };
    // AWS or Slack can take a minute to fail (retries with backoff); a person at 3 a.m. should not wonder whether golive heard them.
    const slow = setTimeout(() => {
      if (!answered) void sendPrivately(renderNotice('⏳ Still working on it: AWS or Slack is slow to answer right now. The result will follow, here or in the channel.')).catch(() => undefined);
    }, options.slowReplyMs ?? 4000);
    slow.unref();
    try {
      await runCommand(command.text, { userId: command.user_id, channelId: command.channel_id, triggerId: command.trigger_id, services, respond: reply });
    } catch (err) {
      await reply(renderError(describeError(err, logger, { command: 'golive', user: command.user_id, channel: command.channel_id })));
    } finally {
      clearTimeout(slow);
    }
  });

  onButton(ACTION_CHECK_ITEM, async ({ body, action, reply }) => {
    const channel = body.channel?.id ?? null;
    const result = await checklist.check(action.value ?? '', { userId: body.user.id, source: 'button', channel }, null);
    // A click on the Home tab has no message to update in place; republish the tab instead.
    if (body.container?.type === 'view') await services.home.publish(body.user.id);
    if (!result.changed) {
      await reply(renderNotice(`\`${escapeText(result.status.item.id)}\` was already signed off by <@${result.status.changedBy}>; nothing changed.`));
      await statusBoard.refreshAll();
    }
  });

  onButton(new RegExp(`^${ACTION_STATUS_PAGE}`), async ({ body, action }) => {
    const parsed = JSON.parse(action.value ?? '{}') as { g?: unknown; p?: unknown };
    const gateId = typeof parsed.g === 'string' ? checklist.findGate(parsed.g).id : undefined;
    const page = typeof parsed.p === 'number' && Number.isInteger(parsed.p) ? parsed.p : 1;
    if (body.container?.type === 'view') {
      // The Home tab has no pages any more; an old button just shows it afresh.
      await services.home.publish(body.user.id);
    } else if (body.channel && body.message) {
      const owner = (await statusBoard.viewerOf(body.channel.id, body.message.ts)) ?? body.user.id;
      await statusBoard.showPage(body.channel.id, body.message.ts, owner, { gateId, page });
    }
  });


  /** The number a button carries; anything else is a forged or stale button. */
  function buttonId(value: string | undefined, what = 'request'): number {
    const id = Number(value);
    if (!Number.isSafeInteger(id) || id <= 0) throw new GoliveError('unknown_request', `That button does not name a ${what} golive knows.`);
    return id;
  }

  onButton(ACTION_APPROVE, async ({ body, action, reply }) => {
    const id = buttonId(action.value);
    const outcome = await approvals.approve(id, body.user.id, 'button', body.channel?.id ?? null);
    if (outcome.kind === 'decided') return await reply(renderNotice(renderAlreadyDecided(outcome.request, runbook.launch.timezone)));
    if (outcome.kind === 'duplicate') return await reply(renderNotice('You have already approved this request; it is waiting for more approvals.'));
    if (outcome.kind === 'recorded') {
      await changeBoard.updateRequest(id);
      return await reply(renderNotice(`Your approval is recorded: ${outcome.approvals} of ${outcome.needed} needed.`));
    }
    // Execution starts first: a slow card update must not delay a rollback.
    services.background(async () => {
      const running = deploys.executeApproved(outcome.request);
      await changeBoard.updateRequest(id);
      await running;
      await changeBoard.updateRequest(id);
    });
  });

  for (const [actionId, decide] of [
    [ACTION_REJECT, (id: number, user: string, channel: string | null) => approvals.reject(id, user, 'button', channel)],
    [ACTION_CANCEL, async (id: number, user: string, channel: string | null) => approvals.cancel(id, user, 'button', channel)],
  ] as const) {
    onButton(actionId, async ({ body, action, reply }) => {
      const id = buttonId(action.value);
      const outcome = await decide(id, body.user.id, body.channel?.id ?? null);
      if (outcome.kind === 'decided') return await reply(renderNotice(renderAlreadyDecided(outcome.request, runbook.launch.timezone)));
      await changeBoard.updateRequest(id);
    });
  }

  onButton(ACTION_ROLLBACK_FAILED_DEPLOY, async ({ body, action, reply }) => {
    const request = await deploys.proposeRollbackOfDeploy(buttonId(action.value, 'deploy'), body.user.id);
    await changeBoard.postRequest(request);
    await reply(renderNotice(`Rollback request #${request.id} is posted for approval. You cannot approve it yourself.`));
  });

  onButton(ACTION_ALARM_ACK, async ({ body, action, reply }) => {
    const name = action.value ?? '';
    const result = await services.alarms.acknowledge(name, body.user.id);
    if (!result.ok) {
      const row = result.row;
      const why = !row
        ? `golive does not watch an alarm called \`${escapeText(name.slice(0, 200))}\`.`
        : row.state !== 'ALARM'
          ? `\`${escapeText(name)}\` is ${row.state} now; there is nothing to acknowledge.`
          : `\`${escapeText(name)}\` was already acknowledged by <@${row.acked_by}>.`;
      await reply(renderNotice(`${why} Nothing changed.`));
    }
  });

  onButton(ACTION_ALARM_DECLARE, async ({ body, action, reply }) => {
    const name = action.value ?? '';
    const row = await services.alarms.row(name);
    if (!row?.fired_at) throw new GoliveError('usage', `golive has no firing of \`${escapeText(name.slice(0, 200))}\` to declare an incident for.`);
    const rule = services.alarms.ruleFor(name);
    const defined = (['P1', 'P2', 'P3', 'P4'] as const).filter((s) => runbook.incidents?.severities[s]);
    const severity = rule.incident ?? (defined.includes('P2') ? 'P2' : (defined[0] ?? 'P2'));
    const { incident } = await services.incidents.declare({
      severity,
      summary: `${name}: ${row.reason}`,
      userId: body.user.id,
      source: 'button',
      alarm: { name, firedAt: row.fired_at, post: row.post_outbox_id },
    });
    await reply(renderNotice(`INC-${incident.id} (${severity}) is open in <#${incident.channel_id}>; you are its commander.`));
  });

  onButton(ACTION_INCIDENT_ACK, async ({ body, action, reply }) => {
    const { ok, incident } = await services.incidents.acknowledge(buttonId(action.value, 'incident'), body.user.id);
    if (!ok) await reply(renderNotice(incident.state !== 'open' ? `INC-${incident.id} is resolved; nothing to acknowledge.` : `INC-${incident.id} was already acknowledged by <@${incident.acked_by}>; nothing changed.`));
  });

  onButton(ACTION_INCIDENT_ROLLBACK, async ({ body, action, reply }) => {
    const [id, service = ''] = (action.value ?? '').split(':');
    const inc = await services.incidents.get(Number(id));
    if (inc.state !== 'open' || inc.root_cause) {
      return await reply(renderNotice(`INC-${inc.id} ${inc.state !== 'open' ? 'is resolved' : 'has a root cause recorded'}; no rollback was requested. Use \`/golive rollback ${escapeText(service)}\` if one is still needed.`));
    }
    const request = await deploys.proposeRollback(service, [`INC-${Number(id)} has no root cause yet`], body.user.id, 'button');
    await changeBoard.postRequest(request);
    await reply(renderNotice(`Rollback request #${request.id} for \`${escapeText(service)}\` is posted in the ops channel for approval.`));
  });

  type ViewValues = Parameters<typeof field>[0];
  const whenSubmitted = async (userId: string, channel: string, work: () => Promise<string>) => {
    // A view submission has no response_url: the answer goes to the submitter as an ephemeral in the channel.
    try {
      const text = await work();
      await slack.postEphemeral(channel, userId, renderNotice(text)).catch((err: unknown) => logger.warn({ err }, 'could not confirm a modal'));
    } catch (err) {
      await slack.postEphemeral(channel, userId, renderError(describeError(err, logger, { view: 'incident', user: userId }))).catch(() => undefined);
    }
  };

  /**
   * A modal submission: a missing required field is shown on the form (the
   * only answer Slack allows after submit); otherwise acknowledged at once and
   * the work's outcome sent to the submitter.
   */
  function onSubmit(callbackId: string, required: { block: string; message: string }, run: (values: ViewValues, userId: string, metadata: string) => Promise<{ channel: string; work: () => Promise<string> }>): void {
    knownViews.add(callbackId);
    app.view(callbackId, async ({ ack, body, view }) => {
      const values = view.state.values as unknown as ViewValues;
      if (!field(values, required.block)) return ack({ response_action: 'errors', errors: { [required.block]: required.message } });
      await ack();
      try {
        const { channel, work } = await run(values, body.user.id, view.private_metadata);
        await whenSubmitted(body.user.id, channel, work);
      } catch (err) {
        // Nowhere to reply before we know the channel: the ops channel it is.
        await whenSubmitted(body.user.id, runbook.launch.channel, () => Promise.reject(err));
      }
    });
  }

  onSubmit(VIEW_DECLARE, { block: 'summary', message: 'An incident needs a summary.' }, async (values, userId, metadata) => ({
    channel: metadata || runbook.launch.channel,
    work: async () => {
      const { incident } = await services.incidents.declare({ severity: field(values, 'severity'), summary: field(values, 'summary'), services: field(values, 'services'), userId, source: 'command' });
      return `INC-${incident.id} is open in <#${incident.channel_id}>; you are its commander.`;
    },
  }));

  onSubmit(VIEW_UPDATE, { block: 'status', message: 'Say where things stand.' }, async (values, userId, metadata) => {
    const incident = await services.incidents.get(Number(metadata));
    return {
      channel: incident.channel_id,
      work: async () => {
        const updated = await services.incidents.update(incident, { status: field(values, 'status'), actions: field(values, 'actions'), next_steps: field(values, 'next_steps'), eta: field(values, 'eta') }, userId);
        return `Update #${updated.updates} is posted.`;
      },
    };
  });

  onSubmit(VIEW_RESOLVE, { block: 'root_cause', message: 'Resolving needs the root cause.' }, async (values, userId, metadata) => {
    const incident = await services.incidents.get(Number(metadata));
    return {
      channel: incident.channel_id,
      work: async () => {
        await services.incidents.resolve(incident, { rootCause: field(values, 'root_cause'), resolution: field(values, 'resolution') }, userId);
        return `INC-${incident.id} is resolved.`;
      },
    };
  });

  for (const [actionId, vote] of [
    [ACTION_GONOGO_GO, 'go'],
    [ACTION_GONOGO_NOGO, 'no_go'],
  ] as const) {
    onButton(actionId, async ({ body, action }) => {
      // Refused before the modal opens: a non-voter, a second vote or a decided card never sees the form.
      const decision = await services.gonogo.checkMayVote(buttonId(action.value, 'go/no-go decision'), body.user.id);
      await slack.openView(body.trigger_id, voteModal(decision, vote));
    });
  }

  knownViews.add(VIEW_GONOGO_VOTE);
  app.view(VIEW_GONOGO_VOTE, async ({ ack, body, view }) => {
    let meta: { d?: unknown; v?: unknown };
    try {
      meta = JSON.parse(view.private_metadata) as { d?: unknown; v?: unknown };
    } catch {
      meta = {};
    }
    const values = view.state.values as unknown as ViewValues;
    const note = field(values, 'note');
    const id = Number(meta.d);
    const vote = meta.v === 'go' || meta.v === 'no_go' ? meta.v : undefined;
    const decision = Number.isSafeInteger(id) ? await services.gonogo.decision(id) : undefined;
    if (vote === 'go' && decision && !decision.evidence.allPass && !note) {
      return ack({ response_action: 'errors', errors: { note: 'Not every criterion passes: say why the launch should go ahead anyway.' } });
    }
    await ack();
    await whenSubmitted(body.user.id, decision?.channel ?? runbook.launch.channel, async () => {
      if (!decision || !vote) throw new GoliveError('unknown_request', 'That form does not name a go/no-go decision golive knows.');
      const { decision: after } = await services.gonogo.vote(decision.id, body.user.id, vote, note || null);
      const outcome = after.state === 'open' ? 'the decision is still open' : `that decides it: ${after.state === 'go' ? 'GO' : 'NO-GO'}`;
      return `Your ${vote === 'go' ? 'Go' : 'No-Go'} vote on decision #${after.id} is recorded; ${outcome}.`;
    });
  });

  // A button or form golive does not have (a message from an older version, another app's id) would
  // otherwise go unanswered until Slack shows its own error after 3 seconds. Bolt runs every matching
  // listener, so these leave the known ids to their own handlers.
  app.action<BlockAction>(/.*/, async ({ ack, action, body, respond }) => {
    const id = (action as { action_id?: string }).action_id ?? '';
    if (knownActions.some((k) => (typeof k === 'string' ? k === id : k.test(id)))) return;
    await ack();
    logger.warn({ action: id.slice(0, 100), user: body.user?.id }, 'a click on a button golive does not have');
    await privately(respond)(renderNotice('golive does not know that button (it may be from an older message); nothing was changed.', 'Run `/golive status` for the current state, or `/golive help`.')).catch((err: unknown) =>
      logger.warn({ err }, 'could not answer a click on an unknown button'),
    );
  });
  app.view(/.*/, async ({ ack, view, body }) => {
    if (knownViews.has(view.callback_id)) return;
    await ack();
    logger.warn({ view: view.callback_id.slice(0, 100), user: body.user.id }, 'a form golive does not have was submitted; closed it');
  });

  registerPinHandlers(app, { incidents: services.incidents, slack, logger });

  // App Home's "Launch report": posted in the ops channel, where the report is the answer (a Home click has no response_url).
  onButton(ACTION_POST_REPORT, async ({ body }) => {
    await services.reports.queueLaunchReport(body.user.id, runbook.launch.channel);
  });

  app.event('app_home_opened', async ({ event }) => {
    if (event.tab !== 'home') return;
    try {
      await services.home.publish(event.user);
    } catch (err) {
      describeError(err, logger, { event: 'app_home_opened', user: event.user });
    }
  });
}
