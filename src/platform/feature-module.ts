import type { Command } from './commands/command-spec.js';
import type { Route } from './http/routes.js';
import type { Job } from './scheduler.js';
import type { SlackUi } from './slack/slack-ui.js';

/** What a feature hands the composition root: its subcommands, its buttons and modals, its HTTP routes and its jobs. */
export interface FeatureModule {
  commands?: Command[];
  register?(ui: SlackUi): void;
  routes?: Route[];
  jobs?: Job[];
}
