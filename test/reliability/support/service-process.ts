// Kept for scripts/soak.ts, which still imports from here; new code imports
// test/support/service-process directly.
export { startServiceProcess } from '../../support/service-process';
export type { Exit, ServiceProcess } from '../../support/service-process';
