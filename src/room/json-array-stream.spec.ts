import express from 'express';
import { request, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeJsonArray } from './json-array-stream';

/** Serves one streamed array per request from `source`, on loopback. */
async function serve(
  source: () => AsyncGenerator<unknown[]>,
  onSettled: () => void = () => undefined,
): Promise<{ url: string; server: Server }> {
  const app = express();
  app.get('/', (_req, res) => {
    void writeJsonArray(res, source(), (item) => item).then(onSettled);
  });
  const server = await new Promise<Server>((resolve) => {
    const started = app.listen(0, '127.0.0.1', () => resolve(started));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, server };
}

async function* pagesOf(...pages: unknown[][]): AsyncGenerator<unknown[]> {
  yield* pages;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('writeJsonArray', () => {
  let server: Server | undefined;

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  it('writes every page, empty ones included, as one JSON array', async () => {
    const served = await serve(() => pagesOf([1, { a: 2 }], [], ['three']));
    server = served.server;

    const response = await fetch(served.url);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(
      'application/json; charset=utf-8',
    );
    expect(await response.text()).toBe('[1,{"a":2},"three"]');
  });

  it('writes [] when there are no items at all', async () => {
    const served = await serve(() => pagesOf([], []));
    server = served.server;

    expect(await (await fetch(served.url)).text()).toBe('[]');
  });

  it('stops reading pages and settles when the client goes away mid-stream', async () => {
    let pulled = 0;
    let sourceClosed = false;
    let settled = false;
    // Endless pages of 1 MB each: only back-pressure stops the writer.
    const endless = async function* () {
      try {
        for (;;) {
          pulled++;
          yield ['x'.repeat(1_000_000)];
        }
      } finally {
        sourceClosed = true;
      }
    };
    const served = await serve(endless, () => (settled = true));
    server = served.server;

    await new Promise<void>((resolve, reject) => {
      const call = request(served.url, (response) => {
        // Read nothing, so the server's socket buffers fill up.
        response.pause();
        setTimeout(() => {
          call.destroy();
          resolve();
        }, 100);
      });
      call.on('error', reject);
      call.end();
    });

    await until(() => settled, 'the writer to settle');
    expect(sourceClosed).toBe(true);
    const pulledWhenSettled = pulled;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(pulled).toBe(pulledWhenSettled);
  });
});
