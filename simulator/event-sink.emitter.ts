import { Logger } from 'pino';

import { epochSecondsNow } from './timestamps';

/** Where a conferencing node posts its events, and with what credentials. */
export interface EventSink {
  url: string;
  username?: string | null;
  password?: string | null;
}

/** The v1 event-sink message a conferencing node posts. */
export interface EventSinkMessage {
  node: string;
  seq: number;
  version: 1;
  time: number;
  event: string;
  data: Record<string, unknown>;
}

/** Per sink and node: the last `seq` used and the delivery in progress. */
interface Channel {
  seq: number;
  tail: Promise<void>;
}

const POST_TIMEOUT_MS = 10_000;

/**
 * Posts event-sink messages the way Pexip's conferencing nodes do: each
 * node numbers its messages to a sink from 1 and sends them one at a time,
 * in order, with HTTP Basic when the sink has credentials. A failed post is
 * logged and dropped; nothing is retried.
 */
export class EventSinkEmitter {
  private channels = new Map<string, Channel>();
  private readonly aborter = new AbortController();

  constructor(private readonly logger: Logger) {}

  /**
   * Queues one event from `node` to `sink`.
   *
   * @returns a promise that settles once this message was delivered or
   *   given up; it never rejects
   */
  send(
    sink: EventSink,
    node: string,
    event: string,
    data: Record<string, unknown>,
  ): Promise<void> {
    const key = `${node} ${sink.url}`;
    const channel = this.channels.get(key) ?? {
      seq: 0,
      tail: Promise.resolve(),
    };
    this.channels.set(key, channel);

    channel.seq += 1;
    const message: EventSinkMessage = {
      node,
      seq: channel.seq,
      version: 1,
      time: epochSecondsNow(),
      event,
      data,
    };
    channel.tail = channel.tail.then(() => this.post(sink, message));
    return channel.tail;
  }

  /** Starts every node's numbering again at 1, as a restarted sink does. */
  reset(): void {
    this.channels = new Map();
  }

  /** Abandons posts in flight so the process can exit. */
  close(): void {
    this.aborter.abort();
  }

  private async post(
    sink: EventSink,
    message: EventSinkMessage,
  ): Promise<void> {
    if (this.aborter.signal.aborted) return;
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
    };
    if (sink.username || sink.password) {
      const pair = `${sink.username ?? ''}:${sink.password ?? ''}`;
      headers.Authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
    }

    const context = {
      sink: sink.url,
      node: message.node,
      event: message.event,
    };
    try {
      const response = await fetch(sink.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(message),
        signal: AbortSignal.any([
          this.aborter.signal,
          AbortSignal.timeout(POST_TIMEOUT_MS),
        ]),
      });
      await response.arrayBuffer();
      if (!response.ok) {
        this.logger.warn(
          { ...context, status: response.status },
          'Event sink refused an event',
        );
      }
    } catch (error) {
      if (this.aborter.signal.aborted) return;
      this.logger.warn(
        { ...context, err: (error as Error).message },
        'Event sink could not be reached',
      );
    }
  }
}
