/** What changed, for the parts that show it: the outbox has rows to deliver, the status boards or App Home may be stale. */
export type ChangeSignal = 'outbox' | 'status' | 'home';

/**
 * How a feature says "I committed a change" to the parts built after it (the
 * outbox, the status boards, App Home) without knowing them. The composition
 * root connects the listeners once everything exists.
 */
export class ChangeSignals {
  private readonly listeners = new Map<ChangeSignal, (() => void)[]>();
  private homeViewer?: (userId: string) => Promise<void>;

  on(signal: ChangeSignal, listener: () => void): void {
    this.listeners.set(signal, [...(this.listeners.get(signal) ?? []), listener]);
  }

  emit(...signals: ChangeSignal[]): void {
    for (const s of signals) for (const l of this.listeners.get(s) ?? []) l();
  }

  /** Who republishes one person's Home tab at once (a click in it has no message to update in place). */
  onHomeViewer(republish: (userId: string) => Promise<void>): void {
    this.homeViewer = republish;
  }

  async homeViewerChanged(userId: string): Promise<void> {
    await this.homeViewer?.(userId);
  }
}
