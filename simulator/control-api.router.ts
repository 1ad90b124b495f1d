import express, { ErrorRequestHandler, Response, Router } from 'express';
import { z } from 'zod';

import {
  callSchema,
  describeIssues,
  faultSchema,
  latencySchema,
} from './control.schemas';
import { Fault } from './fault.injector';
import { SimulatorState } from './simulator.state';

/** Where the control surface lives: a prefix Pexip never uses. */
export const CONTROL_PREFIX = '/_simulator';

/**
 * The control surface test harnesses drive: latency, faults, the request
 * log, simulated calls and reset. It needs no authentication, is never
 * delayed, faulted or logged, and answers 400 `{"error": …}` to a body it
 * cannot use.
 */
export function controlApiRouter(state: SimulatorState): Router {
  const router = Router();
  router.use(express.json({ type: () => true, limit: '100kb' }));

  router.get('/latency', (_req, res) => {
    res.json({ ms: state.latencyMs });
  });
  router.put('/latency', (req, res) => {
    const body = parse(latencySchema, req.body, res);
    if (!body) return;
    state.latencyMs = body.ms;
    res.json({ ms: state.latencyMs });
  });

  router.get('/faults', (_req, res) => {
    res.json(state.faults.list().map(describeFault));
  });
  router.post('/faults', (req, res) => {
    const spec = parse(faultSchema, req.body, res);
    if (!spec) return;
    res.status(201).json(describeFault(state.faults.add(spec)));
  });
  router.delete('/faults', (_req, res) => {
    state.faults.clear();
    res.status(204).end();
  });

  router.get('/requests', (_req, res) => {
    res.json(state.requests.list());
  });
  router.delete('/requests', (_req, res) => {
    state.requests.clear();
    res.status(204).end();
  });

  router.post('/calls', (req, res) => {
    const spec = parse(callSchema, req.body, res);
    if (!spec) return;
    const conference = state.calls.start(spec);
    if (!conference) {
      res
        .status(404)
        .json({ error: `No conference named '${spec.conference}'.` });
      return;
    }
    res.status(202).json({
      id: conference.id,
      conference: spec.conference,
      duration_ms: spec.duration_ms,
      nodes: spec.nodes,
    });
  });

  router.post('/reset', (_req, res) => {
    state.reset();
    res.status(204).end();
  });

  router.use((req, res) => {
    res
      .status(404)
      .json({ error: `No control call ${req.method} ${req.originalUrl}.` });
  });
  router.use(controlErrorHandler);
  return router;
}

/** The parsed body, or `undefined` after answering 400. */
function parse<T extends z.ZodType>(
  schema: T,
  body: unknown,
  res: Response,
): z.output<T> | undefined {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  res.status(400).json({ error: describeIssues(result.error) });
  return undefined;
}

function describeFault(fault: Fault) {
  return {
    id: fault.id,
    method: fault.method ?? null,
    path_prefix: fault.path_prefix ?? null,
    status: fault.status ?? null,
    times: fault.times,
    remaining: fault.remaining,
    after_commit: fault.after_commit,
    retry_after: fault.retry_after ?? null,
    hang: fault.hang,
    reset: fault.reset,
  };
}

/** Malformed or oversized JSON: a 400/413 with a message, never HTML. */
const controlErrorHandler: ErrorRequestHandler = (error, _req, res, next) => {
  if (res.headersSent) {
    next(error);
    return;
  }
  const status = typeof error?.status === 'number' ? error.status : 500;
  res.status(status).json({ error: (error as Error).message });
};
