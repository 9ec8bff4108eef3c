import { alarms } from './alarms.js';
import { check } from './check.js';
import { deploy } from './deploy.js';
import type { CommandSpec } from './command-spec.js';
import { gonogo } from './gonogo.js';
import { help } from './help.js';
import { history } from './history.js';
import { incident } from './incident.js';
import { rollback } from './rollback.js';
import { signoff } from './signoff.js';
import { status } from './status.js';
import { t0 } from './t0.js';
import { timeline } from './timeline.js';
import { uncheck } from './uncheck.js';

/** Every `/golive` subcommand, in the order `help` lists them. */
export const commandSpecs: readonly CommandSpec[] = [status, check, uncheck, signoff, gonogo, timeline, t0, deploy, rollback, alarms, incident, history, help];
