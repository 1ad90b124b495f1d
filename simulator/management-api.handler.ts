import express, { Request, RequestHandler, Response } from 'express';

import { AdminApiRoutes } from './admin-api.routes';
import { ApiAnswer, ApiError } from './api-answer';
import { Fault } from './fault.injector';
import { SimulatorState } from './simulator.state';

/** Tastypie's canned answer to an unexpected server error. */
const SERVER_ERROR = {
  error_message:
    'Sorry, this request could not be processed. Please try again later.',
};

const readBody = express.raw({ type: () => true, limit: '1mb' });

/**
 * Handles every request outside the control surface, in the order a test
 * relies on: log it, let an injected fault act (before or after the real
 * work), add the configured latency, then answer.
 */
export function managementApiHandler(state: SimulatorState): RequestHandler {
  const routes = new AdminApiRoutes(state);

  return async (req, res) => {
    const entry = state.requests.record(req.method, req.originalUrl);
    res.once('finish', () => {
      entry.status = res.statusCode;
    });

    const fault = state.faults.take(req.method, req.originalUrl);
    const real =
      !fault || fault.after_commit
        ? await work(routes, req, res, state)
        : undefined;

    // A hung request is never answered: the client's timeout or close()
    // ends it.
    if (fault?.hang) return;
    if (fault?.reset) {
      req.socket.destroy();
      return;
    }

    if (state.latencyMs > 0) await state.delay(state.latencyMs);
    send(res, fault ? faultAnswer(fault) : (real as ApiAnswer));
  };
}

async function work(
  routes: AdminApiRoutes,
  req: Request,
  res: Response,
  state: SimulatorState,
): Promise<ApiAnswer> {
  try {
    await new Promise<void>((resolve, reject) =>
      readBody(req, res, (error?: unknown) =>
        error ? reject(error) : resolve(),
      ),
    );
    return await routes.dispatch(req);
  } catch (error) {
    if (error instanceof ApiError) {
      return { status: error.status, body: error.body };
    }
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // The body parser's refusals: too large, bad encoding, aborted.
      return { status, body: { error: (error as Error).message } };
    }
    state.logger.error({ err: error }, 'Management API request failed');
    return { status: 500, body: SERVER_ERROR };
  }
}

function faultAnswer(fault: Fault): ApiAnswer {
  const status = fault.status as number;
  return {
    status,
    headers:
      fault.retry_after == null
        ? undefined
        : { 'Retry-After': fault.retry_after },
    body:
      status >= 500
        ? SERVER_ERROR
        : status === 400
          ? { error: 'Fault injected by the simulator.' }
          : undefined,
  };
}

function send(res: Response, answer: ApiAnswer): void {
  // The client may have given up during the latency.
  if (res.headersSent || res.destroyed) return;

  res.status(answer.status);
  for (const [name, value] of Object.entries(answer.headers ?? {})) {
    res.setHeader(name, value);
  }
  const json =
    answer.json ??
    (answer.body === undefined ? undefined : JSON.stringify(answer.body));
  if (json === undefined) {
    res.end();
    return;
  }
  res.setHeader('Content-Type', 'application/json');
  res.end(json);
}
