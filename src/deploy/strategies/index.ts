import type { StrategyName } from '../types.js';
import { BlueGreenStrategy } from './blue-green.js';
import { CanaryStrategy } from './canary.js';
import { RollingStrategy } from './rolling.js';
import type { Strategy } from './types.js';

/** The strategy for a name: the factory, beside the strategies it chooses between. */
export function createStrategy(name: StrategyName): Strategy {
  switch (name) {
    case 'rolling':
      return new RollingStrategy();
    case 'canary':
      return new CanaryStrategy();
    case 'blue-green':
      return new BlueGreenStrategy();
  }
}
