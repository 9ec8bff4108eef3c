import type { ChecklistService } from '../checklist/index.js';
import type { Background } from '../platform/background.js';
import type { ChangeSignals } from '../platform/change-signals.js';
import type { Clock } from '../platform/clock.js';
import type { FeatureModule } from '../platform/feature-module.js';
import type { Logger } from '../platform/logger.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { Store } from '../platform/store/store.js';
import { SlackEvidenceNotifier } from './evidence-notifier.js';
import type { EvidencePorts } from './evidence-session.js';
import { EvidenceService } from './evidence-service.js';
import { verifyCommand } from './verify-command.js';

export { GOLIVE_ACTOR, isDrifting, type SignoffState, type StoredEvidence } from './decide-evidence.js';
export { driftLine, evidenceLine } from './render-evidence.js';
export { verifySpec } from './verify-command.js';
export type { EvidencePorts } from './evidence-session.js';
export type { EvidenceService, VerifyRun } from './evidence-service.js';
export { createHttpProbe, HttpProbeError, type HttpAnswer, type HttpPort } from './probe-http.js';
export { createTlsProbe, type ServedCertificate, type TlsPort } from './probe-tls.js';

/** Evidence checks: items that check themselves against AWS, HTTP and TLS, on sign-off, on `/golive verify` and on a schedule. */
export interface EvidenceModule extends FeatureModule {
  evidence: EvidenceService;
}

export function createEvidenceModule(deps: {
  runbook: Runbook;
  store: Store;
  clock: Clock;
  logger: Logger;
  signals: ChangeSignals;
  background: Background;
  checklist: ChecklistService;
  ports: EvidencePorts;
  /** Whether the verification schedule runs (tests run passes themselves). */
  polling: boolean;
}): EvidenceModule {
  const { runbook, store, clock, logger, signals, background, checklist } = deps;
  const evidence = new EvidenceService({ runbook, store, ports: deps.ports, checklist, clock, logger, afterCommit: () => signals.emit('outbox', 'status', 'home') });
  evidence.notify(new SlackEvidenceNotifier({ runbook, store, clock }));
  checklist.useEvidence(evidence);
  const schedule = runbook.verification.schedule;
  // A pass runs as background work, so stop() waits for one under way before the database closes.
  const verifyAll = (): Promise<unknown> => new Promise((resolve, reject) => background.run(() => evidence.verifyAll().then(resolve, reject)));
  return {
    evidence,
    commands: [verifyCommand({ evidence, clock })],
    jobs:
      evidence.configured && schedule !== 'off' && deps.polling
        ? [{ name: 'verification', schedule: { cron: schedule }, atStart: 'background', run: verifyAll, failure: 'verification pass failed; the next one will retry' }]
        : [],
  };
}
