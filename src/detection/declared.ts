import type { StatusFlag } from '../events/types.js';
import type { DeclaredState } from './types.js';

export type StatusFlags = Record<StatusFlag, boolean>;

/**
 * What the feed itself says about a station. `is_installed: false` wins over everything (the
 * station is not on the street); installed but neither renting nor returning is `inactive`.
 */
export function declaredStateOf(flags: StatusFlags): DeclaredState {
  if (!flags.installed) return 'closed';
  if (flags.renting && flags.returning) return 'open';
  if (flags.renting) return 'not_returning';
  if (flags.returning) return 'not_renting';
  return 'inactive';
}
