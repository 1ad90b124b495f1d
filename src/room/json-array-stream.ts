import { once } from 'node:events';
import type { Response } from 'express';

/**
 * Streams pages of items as one JSON array, so that listing 20,000 rooms
 * holds one page in memory, not all of them. The first page is read before
 * the status is sent: when the source fails at once, the caller still gets
 * a proper error answer. A failure after that can only cut the connection.
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
  const writePage = async (items: T[]) => {
    if (items.length === 0) return;
    const chunk = items.map((item) => JSON.stringify(show(item))).join(',');
    const ok = response.write(written === 0 ? `[${chunk}` : `,${chunk}`);
    written += items.length;
    // Respect back-pressure so a slow client cannot make us buffer it all.
    if (!ok) await once(response, 'drain');
  };

  if (!first.done) await writePage(first.value);
  for (
    let page = await pages.next();
    !page.done;
    page = await pages.next()
  ) {
    await writePage(page.value);
  }
  response.end(written === 0 ? '[]' : ']');
}
