import type { TestSimulator } from '../../support/simulator';

// scripts/soak.ts still imports these from here; tests import them from
// test/support directly.
export { SINK_PASSWORD, SINK_USERNAME } from '../../support/event-sink';
export { callService } from '../../support/http';
export { uuiFor } from '../../support/uui';

/** Every room on a simulator, all pages. */
export function roomsOn(pexip: TestSimulator): Promise<Record<string, any>[]> {
  return pexip.rooms();
}
