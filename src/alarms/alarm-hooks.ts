import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseEventBridgeAlarmEvent, parseSnsAlarmMessage } from './parse-alarm-event.js';
import { isTrustedCertUrl, type SnsVerifier } from './verify-sns.js';
import type { Logger } from '../platform/logger.js';
import type { AlarmService } from './alarm-service.js';

const MAX_BODY_BYTES = 256 * 1024;
/** The header an EventBridge API destination sends with the shared secret (its "API key" authorization). */
const EVENTBRIDGE_SECRET_HEADER = 'x-golive-secret';

function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The push side of alarm watching: `POST /hooks/sns` (SNS HTTP(S)
 * subscriptions, every message's signature verified) and
 * `POST /hooks/eventbridge` (EventBridge API destinations, a shared secret).
 * Both feed the same pipeline as the poll, so nothing is posted twice.
 */
export function createAlarmHooks(deps: { alarms: AlarmService; verifier: SnsVerifier; allowedTopics: readonly string[]; eventBridgeSecret?: string; logger: Logger; confirm?: (url: string) => Promise<number> }) {
  const log = deps.logger.child({ component: 'alarm-hooks' });
  const confirm = deps.confirm ?? (async (url: string) => (await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(5000) })).status);

  async function eventbridge(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!deps.eventBridgeSecret) return send(res, 404, { error: 'EventBridge push is not configured (set GOLIVE_EVENTBRIDGE_SECRET)' });
    const header = req.headers[EVENTBRIDGE_SECRET_HEADER];
    if (!sameSecret(Array.isArray(header) ? header[0] : header, deps.eventBridgeSecret)) {
      log.warn({ from: req.socket.remoteAddress }, 'EventBridge push refused: wrong or missing secret');
      return send(res, 401, { error: `missing or wrong ${EVENTBRIDGE_SECRET_HEADER} header` });
    }
    const raw = await readBody(req);
    if (raw === undefined) return send(res, 413, { error: 'body too large' });
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return send(res, 400, { error: 'body is not JSON' });
    }
    const parsed = parseEventBridgeAlarmEvent(body);
    if (!parsed.ok) return send(res, 400, { error: parsed.reason });
    if (!deps.alarms.watches(parsed.transition.alarmName)) return send(res, 200, { accepted: true, ignored: 'alarm is not under the runbook’s prefixes' });
    return send(res, 200, { accepted: true, recorded: await deps.alarms.ingest([parsed.transition]) });
  }

  async function sns(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    if (raw === undefined) return send(res, 413, { error: 'body too large' });
    const verified = await deps.verifier.verify(raw);
    if (!verified.ok) {
      log.warn({ reason: verified.reason, from: req.socket.remoteAddress }, 'SNS message refused');
      return send(res, 403, { error: verified.reason });
    }
    const msg = verified.message;
    // A valid SNS signature only proves SNS sent it: anyone can own a topic, so only the runbook's topics count.
    if (!deps.allowedTopics.includes(msg.TopicArn)) {
      log.warn({ topic: msg.TopicArn, type: msg.Type }, 'SNS message from a topic the runbook does not allow');
      return send(res, 403, { error: 'topic is not in the runbook’s alarms.sns_topics' });
    }
    if (msg.Type === 'SubscriptionConfirmation') {
      // Subscribing is only ever done for topics the runbook names, and only by visiting SNS's own URL.
      const url = msg.SubscribeURL ?? '';
      if (!isSnsUrl(url)) return send(res, 400, { error: 'SubscribeURL is not an SNS URL' });
      const status = await confirm(url).catch((err: Error) => {
        log.error({ err, topic: msg.TopicArn }, 'could not confirm the SNS subscription');
        return 0;
      });
      if (status < 200 || status >= 300) return send(res, 502, { error: `confirming the subscription failed (${status || 'no answer'})` });
      log.info({ topic: msg.TopicArn }, 'SNS subscription confirmed');
      return send(res, 200, { confirmed: true });
    }
    if (msg.Type === 'UnsubscribeConfirmation') {
      log.warn({ topic: msg.TopicArn }, 'SNS says this endpoint was unsubscribed');
      return send(res, 200, { accepted: true });
    }
    const parsed = parseSnsAlarmMessage(msg.Message, msg.TopicArn);
    // A verified message that is not an alarm is acknowledged (so SNS does not retry it) but changes nothing.
    if (!parsed.ok) return send(res, 200, { accepted: true, ignored: parsed.reason });
    if (!deps.alarms.watches(parsed.transition.alarmName)) return send(res, 200, { accepted: true, ignored: 'alarm is not under the runbook’s prefixes' });
    return send(res, 200, { accepted: true, recorded: await deps.alarms.ingest([parsed.transition]) });
  }

  const guard = (fn: (req: IncomingMessage, res: ServerResponse) => Promise<void>) => (req: IncomingMessage, res: ServerResponse) => {
    fn(req, res).catch((err: unknown) => {
      log.error({ err }, 'alarm push failed');
      if (!res.headersSent) send(res, 500, { error: 'internal error; the transition will be picked up by the next poll' });
    });
  };
  return { sns: guard(sns), eventbridge: guard(eventbridge) };
}

function isSnsUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && isTrustedCertUrl(`https://${u.host}/x.pem`);
  } catch {
    return false;
  }
}
