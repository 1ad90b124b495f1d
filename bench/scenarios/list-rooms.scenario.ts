import { setTimeout as sleep } from 'node:timers/promises';
import {
  BenchContext,
  meets,
  ResultRow,
  ScenarioResult,
} from '../support/bench-context';
import { median, round } from '../support/load-generator';
import { ServiceProcess } from '../support/service-process';
import { SimulatorProcess } from '../support/simulator-process';
import { CONFERENCES } from '../../test/support/pexip-requests';

const TARGET = '≤ 1.5';
const PAGE_SIZE = 1_000;

/**
 * GET /room over every room, timed from request to last byte, against the
 * same pages fetched straight from the simulator one after the other (what
 * any client of Pexip must wait for). Also the service's resident memory:
 * the peak during the list against just before it, at each room count, to
 * show the answer is streamed rather than held.
 */
export async function listRoomsScenario(
  ctx: BenchContext,
): Promise<ScenarioResult> {
  const { profile, simulator } = ctx;
  const rows: ResultRow[] = [];
  const details: Record<string, unknown> = {};
  const timedSize = profile.listSizes[0];
  const sizes = [...profile.listSizes].sort((a, b) => a - b);

  await simulator.reset();
  const service = await ctx.startService();
  try {
    let seeded = 0;
    for (const size of sizes) {
      await simulator.seedRooms(size - seeded);
      seeded = size;
      ctx.log(`list: ${size} rooms`);

      const pexipWalks: number[] = [];
      const serviceWalks: number[] = [];
      let memory: MemoryDuringList | undefined;
      for (let i = 0; i < profile.listRepeats; i++) {
        pexipWalks.push(await walkPexip(simulator));
        if (i === 0) {
          memory = await listWatchingMemory(service, size);
          serviceWalks.push(memory.ms);
        } else {
          serviceWalks.push((await listThroughService(service, size)).ms);
        }
      }

      const pages = Math.ceil(size / PAGE_SIZE);
      const serviceMs = round(median(serviceWalks), 1);
      const pexipMs = round(median(pexipWalks), 1);
      const ratio = round(serviceMs / pexipMs, 3);
      const nominalMs = pages * ctx.latencyMs;
      const timed = size === timedSize;
      rows.push({
        scenario: 'list all rooms',
        load: `${size.toLocaleString('en')} rooms, ${pages} pages`,
        measured: `${serviceMs} ms; RSS ${memory?.beforeMb} → peak ${memory?.peakMb} MB`,
        floor: `Pexip walk ${pexipMs} ms (pages × L = ${nominalMs} ms)`,
        ratio,
        ...(timed ? { target: TARGET, met: meets(ratio, TARGET) } : {}),
      });
      details[`rooms${size}`] = {
        pages,
        serviceMs: serviceWalks,
        pexipWalkMs: pexipWalks,
        ratioToPagesTimesL: round(serviceMs / nominalMs, 3),
        memory,
      };
    }
  } finally {
    await service.stop();
  }
  return { name: 'list', rows, details };
}

/** Fetches every page straight from the simulator, one after the other. */
async function walkPexip(simulator: SimulatorProcess): Promise<number> {
  const started = performance.now();
  let next: string | null = `${CONFERENCES}?limit=${PAGE_SIZE}`;
  while (next) {
    const response = await fetch(`${simulator.url}${next}`, {
      headers: { Authorization: simulator.authorization },
    });
    // Only the link to the next page is read: parsing the page here would
    // add the runner's own work to Pexip's time.
    const body = await response.text();
    next = /"next":\s*"([^"]+)"/.exec(body)?.[1] ?? null;
  }
  return performance.now() - started;
}

async function listThroughService(
  service: ServiceProcess,
  expected: number,
): Promise<{ ms: number }> {
  const started = performance.now();
  const response = await fetch(`${service.url}/room`, {
    headers: { Authorization: service.bearer },
  });
  const body = await response.text();
  const ms = performance.now() - started;

  const rooms = (JSON.parse(body) as unknown[]).length;
  if (response.status !== 200 || rooms !== expected) {
    throw new Error(
      `GET /room answered ${response.status} with ${rooms} rooms, expected ${expected}`,
    );
  }
  return { ms };
}

interface MemoryDuringList {
  ms: number;
  beforeMb: number;
  peakMb: number;
  /** How the peak was read: the kernel's high-water mark, or sampling. */
  method: 'VmHWM' | 'sampled';
}

/**
 * Lists once while reading the service's resident memory. The kernel's
 * high-water mark is reset first, so the peak is this list's own; where
 * that is not allowed, memory is sampled every 5 ms instead.
 */
async function listWatchingMemory(
  service: ServiceProcess,
  expected: number,
): Promise<MemoryDuringList> {
  const child = service.process;
  const beforeMb = round(child.rssMb(), 1);
  const exact = child.resetPeakRss();
  let sampledPeak = beforeMb;
  let listing = true;
  const sampler = (async () => {
    while (listing) {
      sampledPeak = Math.max(sampledPeak, child.rssMb());
      await sleep(5);
    }
  })();

  const { ms } = await listThroughService(service, expected);
  listing = false;
  await sampler;
  return {
    ms: round(ms, 1),
    beforeMb,
    peakMb: round(exact ? child.peakRssMb() : sampledPeak, 1),
    method: exact ? 'VmHWM' : 'sampled',
  };
}
