import type { DeployRow } from '../deploys/index.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { Block } from '../platform/slack/blocks.js';
import type { SlackPort } from '../platform/slack/slack-port.js';
import type { Store } from '../platform/store/store.js';
import { CanaryRepository, type CanaryRow } from './canary-repository.js';
import type { CanaryNotifier } from './canary-service.js';
import type { CanaryState } from './decide-canary.js';
import { canaryCardBlocks, renderScorecard } from './render-canary.js';

/** The deploy card's status line for each canary state (the canary's own lines come below it). */
const CARD_STEP: Record<CanaryState, { step: string; detail: string }> = {
  starting: { step: 'canary_starting', detail: 'Canary starting' },
  baking: { step: 'baking', detail: 'Canary baking' },
  waiting: { step: 'waiting', detail: 'Canary bake over: waiting for a decision' },
  promoting: { step: 'promoting', detail: 'Promoting the canary' },
  aborting: { step: 'failed', detail: 'Aborting the canary' },
  succeeded: { step: 'succeeded', detail: 'Canary promoted' },
  aborted: { step: 'failed', detail: 'Canary aborted' },
  failed: { step: 'failed', detail: 'Canary failed' },
};

/**
 * The Slack side of canaries: the live scorecard threaded under the deploy
 * card, updated in place every interval, and the canary part of that card.
 */
export class CanaryBoard implements CanaryNotifier {
  private readonly rows: CanaryRepository;

  constructor(
    private readonly deps: {
      runbook: Runbook;
      store: Store;
      slack: SlackPort;
      clock: Clock;
      logger: Logger;
      deploy: (id: number) => Promise<DeployRow | undefined>;
      /** Where the deploy's progress is threaded (its card, or the approval card of an override). */
      threadOf: (deploy: DeployRow) => Promise<{ channel: string; ts: string } | undefined>;
      /** Re-renders the deploy card in place (its extra blocks come from `cardBlocks`). */
      refreshCard: (deploy: DeployRow, step: string, detail: string) => Promise<void>;
    },
  ) {
    this.rows = new CanaryRepository(deps.store);
  }

  async scorecard(c: CanaryRow): Promise<void> {
    if (c.state === 'starting') return;
    const d = await this.deps.deploy(c.deploy_id);
    const service = this.deps.runbook.services.find((s) => s.name === c.service);
    const where = d && (await this.deps.threadOf(d));
    if (!d || !where || !service?.canary) return;
    // An override's deploy has no card of its own (it lives under the approval card): the scorecard carries the buttons.
    const message = renderScorecard(c, service, this.deps.clock.now(), this.deps.runbook.launch.timezone, d.request_id !== null);
    if (c.scorecard_channel && c.scorecard_ts) {
      await this.deps.slack.updateMessage(c.scorecard_channel, c.scorecard_ts, message);
      return;
    }
    const posted = await this.deps.slack.postMessage(where.channel, message, where.ts);
    await this.rows.setScorecard(c.id, posted.channel, posted.ts);
  }

  async card(c: CanaryRow): Promise<void> {
    const d = await this.deps.deploy(c.deploy_id);
    if (!d) return;
    const s = CARD_STEP[c.state];
    await this.deps.refreshCard(d, s.step, d.outcome !== 'running' && d.reason ? d.reason : s.detail);
  }

  /** The canary's lines and buttons on a deploy card; none for a deploy without a canary. */
  async cardBlocks(d: DeployRow): Promise<Block[]> {
    const c = await this.rows.ofDeploy(d.id);
    const service = c && this.deps.runbook.services.find((s) => s.name === c.service);
    if (!c || !service?.canary) return [];
    return canaryCardBlocks(c, service, this.deps.clock.now(), this.deps.runbook.launch.timezone);
  }
}
