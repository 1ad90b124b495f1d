import { DELETION_QUEUE } from '../../src/queue/queue.port';
import {
  LifecycleRig,
  QUEUE_BACKENDS,
  QueueBackend,
  startLifecycleRig,
  startQueueBackend,
} from './support/lifecycle.harness';
import { conferenceEnded } from '../support/event-sink';
import { CONFERENCES } from '../support/pexip-requests';
import { metricTotal, metricValue, samples } from '../support/prometheus';
import { uuiFor } from '../support/uui';
import { waitFor } from '../support/wait';

/**
 * After a known stretch of activity, `/metrics` and the summary log line
 * tell the operator exactly what happened: rooms made, handed out and
 * deleted, the pool and the backlog, every Pexip call timed, every Pexip
 * failure counted.
 */

jest.setTimeout(30_000);

describe.each(QUEUE_BACKENDS)('GET /metrics on %s', (name) => {
  let backend: QueueBackend;
  let rig: LifecycleRig;

  beforeAll(async () => {
    backend = await startQueueBackend(name);
    rig = await startLifecycleRig(backend, {
      env: { GC_MIN_AGE_SECONDS: '1' },
    });
  });

  afterAll(async () => {
    await rig?.close();
    await backend?.stop();
  });

  it('counts what happened: pool, hand-outs, deletions, Pexip calls and errors, collector runs', async () => {
    await rig.pexip.control.clearRequests();

    // Two pool rooms, three identity checks (two from the pool, one made
    // on demand), then one Pexip failure that the retry hides.
    expect((await rig.call('POST', '/room/bulk-create?count=2')).status).toBe(
      202,
    );
    await waitFor(
      () => rig.poolState(),
      (state) => state.available === 2 && state.creating === 0,
      'two pool rooms',
    );
    const handedOut: string[] = [];
    for (const call of ['call-1', 'call-2', 'call-3']) {
      const answer = await rig.create(uuiFor('id', call));
      expect(answer.status).toBe(200);
      handedOut.push(answer.body.name);
    }
    await rig.pexip.control.faults({
      method: 'GET',
      path_prefix: CONFERENCES,
      status: 503,
      times: 1,
    });
    expect((await rig.call('GET', `/room/${handedOut[0]}`)).status).toBe(200);

    // Two calls end; the collector deletes both rooms once old enough.
    for (const room of handedOut.slice(0, 2)) {
      expect((await rig.sink(conferenceEnded(room))).status).toBe(200);
    }
    const queued = await rig.call('GET', '/metrics');
    expect(metricValue(queued.text, 'maxconf_deletion_backlog')).toBe(2);
    await waitFor(
      async () => (await rig.queue.counts(DELETION_QUEUE)).visible,
      (visible) => visible === 2,
      'the ends to be old enough',
    );
    expect(await rig.collector.runOnce()).toMatchObject({ deleted: 2 });
    await rig.collector.runOnce();

    const answer = await rig.call('GET', '/metrics');
    const text = answer.text;

    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(
      metricValue(text, 'maxconf_pool_rooms', { state: 'available' }),
    ).toBe(0);
    expect(metricValue(text, 'maxconf_pool_rooms', { state: 'ripening' })).toBe(
      0,
    );
    expect(metricValue(text, 'maxconf_pool_rooms', { state: 'creating' })).toBe(
      0,
    );
    expect(metricValue(text, 'maxconf_deletion_backlog')).toBe(0);
    expect(metricValue(text, 'maxconf_deletion_queued_total')).toBe(2);
    expect(samples(text, 'maxconf_rooms_handed_out_total')).toEqual(
      expect.arrayContaining([
        { labels: { source: 'pool' }, value: 2 },
        { labels: { source: 'on_demand' }, value: 1 },
      ]),
    );
    expect(metricTotal(text, 'maxconf_rooms_handed_out_total')).toBe(3);
    expect(samples(text, 'maxconf_rooms_created_total')).toEqual(
      expect.arrayContaining([
        { labels: { purpose: 'pool' }, value: 2 },
        { labels: { purpose: 'on_demand' }, value: 1 },
      ]),
    );
    expect(samples(text, 'maxconf_rooms_deleted_total')).toEqual([
      { labels: { reason: 'collector' }, value: 2 },
    ]);
    expect(samples(text, 'maxconf_collector_runs_total')).toEqual([
      { labels: { outcome: 'ok' }, value: 2 },
    ]);
    expect(samples(text, 'maxconf_collector_messages_total')).toEqual([
      { labels: { result: 'deleted' }, value: 2 },
    ]);

    // Every attempt the simulator saw is timed once, the failed one too.
    const requests = await rig.pexip.control.requests();
    expect(
      metricTotal(text, 'maxconf_pexip_request_duration_seconds_count'),
    ).toBe(requests.length);
    const buckets = samples(
      text,
      'maxconf_pexip_request_duration_seconds_bucket',
    );
    expect(buckets.length).toBeGreaterThan(0);
    expect(
      buckets
        .filter((b) => b.labels.le === '+Inf')
        .reduce((sum, b) => sum + b.value, 0),
    ).toBe(requests.length);
    expect(samples(text, 'maxconf_pexip_errors_total')).toEqual([
      {
        labels: expect.objectContaining({ method: 'GET', status: '503' }),
        value: 1,
      },
    ]);
    expect(requests.filter((r) => r.status === 503)).toHaveLength(1);
  });

  it('logs a summary line with the same figures', async () => {
    await rig.metrics.logSummary();

    const summaries = rig.service.logs.filter(
      (line) => line.msg === 'metrics summary',
    );
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({
      pool: { available: 0, ripening: 0, target: 0, creating: 0 },
      deletionBacklog: 0,
      roomsHandedOut: 3,
      roomsCreated: 3,
      roomsDeleted: 2,
      pexipErrors: 1,
      collectorRuns: 2,
    });
  });
});
