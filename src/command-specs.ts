import { alarms } from './alarms/alarms-command.js';
import { check } from './checklist/check-command.js';
import { deploy } from './deploys/deploy-command.js';
import type { CommandSpec } from './platform/commands/command-spec.js';
import { gonogo } from './gonogo/gonogo-command.js';
import { help } from './platform/commands/help.js';
import { history } from './history/history-command.js';
import { incident } from './incidents/incident-command.js';
import { rollback } from './deploys/rollback-command.js';
import { signoff } from './checklist/signoff-command.js';
import { status } from './checklist/status-command.js';
import { t0 } from './timeline/t0-command.js';
import { timeline } from './timeline/timeline-command.js';
import { uncheck } from './checklist/uncheck-command.js';
import { report } from './report/report-command.js';

/** Every `/golive` subcommand, in the order `help` lists them. */
export const commandSpecs: readonly CommandSpec[] = [status, check, uncheck, signoff, gonogo, timeline, t0, deploy, rollback, alarms, incident, history, report, help];
