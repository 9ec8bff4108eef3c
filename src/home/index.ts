import type { FeatureModule } from '../platform/feature-module.js';
import { HomeTab, type HomeTabDeps } from './home-tab.js';

export type { HomeTab } from './home-tab.js';
export { ACTION_POST_REPORT } from './render-home.js';

/** The App Home dashboard: published when opened, republished for its recent viewers when the launch changes. */
export interface HomeModule extends FeatureModule {
  home: HomeTab;
}

export function createHomeModule(deps: HomeTabDeps): HomeModule {
  const home = new HomeTab(deps);
  return {
    home,
    register: (ui) => ui.onHomeOpened((userId) => home.publish(userId)),
  };
}
