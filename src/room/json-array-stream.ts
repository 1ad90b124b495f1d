import type { Response } from 'express';

/**
 * Streams pages of items as one JSON array, so that listing 20,000 rooms
 * holds one page in memory, not all of them. The first page is read before
 * the status is sent: when the source fails at once, the caller still gets
 * a proper error answer. A failure after that can only cut the connection.
 * When the caller goes away, no further page is read.
 */
export async function writeJsonArray<T>(
  response: Response,
  pages: AsyncIterator<T[]>,
  show: (item: T) => unknown,
): Promise<void> {
  const first = await pages.next();

  response.status(200);
  response.setHeader('Content-Type', 'application/json; charset=utf-8');
  let written = 0;
  let gone = false;
  response.once('close', () => (gone = true));
  const writePage = async (items: T[]) => {
    if (items.length === 0) return;
    const chunk = items.map((item) => JSON.stringify(show(item))).join(',');
    const ok = response.write(written === 0 ? `[${chunk}` : `,${chunk}`);
    written += items.length;
    // Respect back-pressure so a slow client cannot make us buffer it all.
    if (!ok && !gone) await drainOrClose(response);
  };

  if (!first.done) await writePage(first.value);
  while (!gone) {
    const page = await pages.next();
    if (page.done) break;
    await writePage(page.value);
  }

  if (gone) {
    // Lets the source finish, so it holds no page and opens no request.
    await pages.return?.();
    return;
  }
  response.end(written === 0 ? '[]' : ']');
}

/** A client that disconnects never drains; waiting for it would leak. */
function drainOrClose(response: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}
