import { collectorSuite } from './support/collector.suite';

// Real servers and files on a shared 2-core machine: be patient.
jest.setTimeout(60_000);

describe('the collector on sqlite', () => collectorSuite('sqlite'));
