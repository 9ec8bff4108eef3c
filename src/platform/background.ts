import type { Logger } from './logger.js';

/** Long work that runs after the reply (a rollout, an alarm's incident); stop() waits for it so a clean shutdown does not cut it off. */
export class Background {
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly logger: Logger) {}

  run(task: () => Promise<unknown>): void {
    const p: Promise<unknown> = task()
      .catch((err: unknown) => this.logger.error({ err }, 'background task failed'))
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** Resolves once everything started so far has ended. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }
}
