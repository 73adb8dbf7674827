/**
 * LISTEN on a connection of its own (never a pooled one: a listening session must stay the same session,
 * which is also why LISTEN does not work through PgBouncer in transaction mode). Notifications carry only
 * a signal – the id of the last event committed, `p:` and MACs whose state changed without an event, or
 * `f:<mac>:<id>` for a phone forgotten after its event <id> – and the listener fetches rows by id. A lost notification therefore costs latency, not events: the
 * follower also polls, and catches up by id after every reconnect (`onConnect`).
 */
import pg from 'pg';
import type { ListenHandlers } from './types.ts';

export interface Listening {
  close(): Promise<void>;
}

export function listen(config: pg.ClientConfig, channel: string, handlers: ListenHandlers, retryMs = 1000): Listening {
  let client: pg.Client | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const retry = () => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, retryMs);
    timer.unref();
  };

  const connect = async () => {
    const c = new pg.Client({ ...config, connectionTimeoutMillis: 3000, keepAlive: true });
    client = c;
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      if (client === c) client = undefined;
      c.end().catch(() => {});
      if (!closed) {
        handlers.onError(err);
        retry();
      }
    };
    c.on('error', fail);
    c.on('end', () => fail(new Error('the listening connection ended')));
    c.on('notification', (n) => {
      const payload = n.payload ?? '';
      if (payload.startsWith('p:')) handlers.onPhones(payload.slice(2).split(','));
      else if (payload.startsWith('f:')) {
        const [mac, upTo] = payload.slice(2).split(':');
        handlers.onForget(mac, Number(upTo) || 0);
      }
      else handlers.onEvents(Number(payload) || 0);
    });
    try {
      await c.connect();
      await c.query(`LISTEN "${channel}"`);
      if (closed) {
        await c.end();
        return;
      }
      handlers.onConnect();
    } catch (err) {
      fail(err);
    }
  };
  void connect();

  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = undefined;
      await c?.end().catch(() => {});
    },
  };
}
