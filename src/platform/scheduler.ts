import cron, { type ScheduledTask } from 'node-cron';
import type { Background } from './background.js';
import type { Logger } from './logger.js';

/** Work a feature runs on a schedule, at start, or both. */
export interface Job {
  name: string;
  /** A cron expression, or 'sweep': the shared short interval (30 s) for due reminders and expiries. Absent: at start only. */
  schedule?: { cron: string } | 'sweep';
  /**
   * Runs once at start: 'required' is awaited and a failure stops the start;
   * 'wait' is awaited and a failure logged; 'background' runs on, and
   * stop() waits for it.
   */
  atStart?: 'required' | 'wait' | 'background';
  run(): Promise<unknown>;
  /** The log line when a run fails; the next run retries. */
  failure: string;
}

/** Whether this replica does the timed work (src/platform/leadership/); absent: it always does. */
export interface LeaderGate {
  isLeader(): boolean;
  onChange(fn: (leading: boolean) => void): void;
}

/**
 * Runs every feature's jobs: cron jobs never overlap themselves (a slow
 * DescribeAlarms must not stack polls), and the sweep runs its jobs one
 * after the other, each failure logged on its own so one failing job does
 * not hold back the rest, and skips a turn while the previous sweep runs.
 *
 * With several replicas only the leader runs them; 'required' start jobs
 * (loading what every replica needs to answer) run on each. A replica that
 * becomes leader runs the other start jobs then: it resumes what the previous
 * leader left (rollouts, canaries, milestones and levels that came due).
 */
export class Scheduler {
  private readonly tasks: ScheduledTask[] = [];
  private sweepTimer?: NodeJS.Timeout;
  private sweeping = false;

  constructor(
    private readonly jobs: readonly Job[],
    private readonly opts: { sweepMs: number; logger: Logger; background: Background; leadership?: LeaderGate },
  ) {}

  private leading(): boolean {
    return this.opts.leadership?.isLeader() ?? true;
  }

  private async runOne(job: Job): Promise<void> {
    if (!this.leading()) return;
    try {
      await job.run();
    } catch (err) {
      this.opts.logger.error({ err, job: job.name }, job.failure);
    }
  }

  private started = false;

  async start(): Promise<void> {
    this.started = true;
    this.opts.leadership?.onChange((leading) => {
      if (!leading || !this.started) return;
      // Taken over from another replica: what it would have resumed at its own start, this one resumes now.
      for (const job of this.jobs) if (job.atStart === 'wait' || job.atStart === 'background') this.opts.background.run(() => this.runOne(job));
    });
    for (const job of this.jobs) {
      if (job.atStart === 'required') await job.run();
      else if (job.atStart === 'wait') await this.runOne(job);
      else if (job.atStart === 'background') this.opts.background.run(() => this.runOne(job));
      if (job.schedule && job.schedule !== 'sweep') this.tasks.push(cron.schedule(job.schedule.cron, () => this.runOne(job), { noOverlap: true, name: job.name }));
    }
    const sweep = this.jobs.filter((j) => j.schedule === 'sweep');
    if (sweep.length === 0) return;
    this.sweepTimer = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = true;
      void (async () => {
        for (const job of sweep) await this.runOne(job);
      })().finally(() => {
        this.sweeping = false;
      });
    }, this.opts.sweepMs);
    this.sweepTimer.unref();
  }

  async stop(): Promise<void> {
    this.started = false;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const t of this.tasks.splice(0)) await t.destroy();
  }
}
