import { FaultSpec } from './control.schemas';

/** A fault waiting for matching requests. */
export interface Fault extends FaultSpec {
  id: number;
  /** Matching requests it will still fail. */
  remaining: number;
}

/**
 * Faults injected through the control surface. Each fails the next `times`
 * requests whose method and path (with query) match; the oldest fault that
 * matches is used first.
 */
export class FaultInjector {
  private faults: Fault[] = [];
  private nextId = 1;

  /** Queues a fault behind the ones already waiting. */
  add(spec: FaultSpec): Fault {
    const fault: Fault = { ...spec, id: this.nextId++, remaining: spec.times };
    this.faults.push(fault);
    return fault;
  }

  /**
   * Takes one use of the oldest fault matching this request.
   *
   * @param pathWithQuery the request path as received, e.g. `/api/…/?name=x`
   */
  take(method: string, pathWithQuery: string): Fault | undefined {
    const fault = this.faults.find(
      (candidate) =>
        (candidate.method == null || candidate.method === method) &&
        (candidate.path_prefix == null ||
          pathWithQuery.startsWith(candidate.path_prefix)),
    );
    if (!fault) return undefined;

    fault.remaining -= 1;
    if (fault.remaining === 0) {
      this.faults = this.faults.filter((candidate) => candidate !== fault);
    }
    return fault;
  }

  /** Faults still waiting, oldest first. */
  list(): readonly Fault[] {
    return this.faults;
  }

  clear(): void {
    this.faults = [];
  }
}
