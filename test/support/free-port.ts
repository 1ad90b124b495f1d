import { once } from 'node:events';
import { createServer } from 'node:net';

/**
 * A loopback port nobody listened on a moment ago, for a server that must
 * be told its port before it starts (a child process, Pexip coming back
 * after an outage). Another process could take it in between; servers
 * that can pick their own port should listen on port 0 instead.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}
