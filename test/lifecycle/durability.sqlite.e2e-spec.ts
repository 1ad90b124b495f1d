import { durabilitySuite } from './support/durability.suite';

// Real processes, killed and started again, on a shared 2-core machine.
jest.setTimeout(60_000);

describe('durability on sqlite', () => durabilitySuite('sqlite'));
