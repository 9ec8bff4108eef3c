import { alarmsSpec } from './alarms/index.js';
import { canarySpec } from './canary/index.js';
import { lockSpec, unlockSpec } from './locks/index.js';
import { checkSpec, signoffSpec, statusSpec, uncheckSpec } from './checklist/index.js';
import { deploySpec, rollbackSpec } from './deploys/index.js';
import { verifySpec } from './evidence/index.js';
import { gonogoSpec } from './gonogo/index.js';
import { historySpec } from './history/index.js';
import { incidentSpec } from './incidents/index.js';
import type { CommandSpec } from './platform/commands/command-spec.js';
import { helpSpec } from './platform/commands/help.js';
import { reportSpec } from './report/index.js';
import { t0Spec, timelineSpec } from './timeline/index.js';

/** Every `/golive` subcommand, in the order `help`, manifest.yml and README list them. */
export const commandSpecs: readonly CommandSpec[] = [statusSpec, checkSpec, uncheckSpec, signoffSpec, verifySpec, gonogoSpec, timelineSpec, t0Spec, deploySpec, rollbackSpec, canarySpec, lockSpec, unlockSpec, alarmsSpec, incidentSpec, historySpec, reportSpec, helpSpec];
