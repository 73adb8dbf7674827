/**
 * `GET /api/v1/stream`: Server-Sent Events of new events. Each message's `id:` is the event id; a client
 * that reconnects with `Last-Event-ID` (EventSource does so by itself) first gets every event it missed,
 * replayed from the store, then the live ones, with no gap and no duplicate. Filters: `mac`, `incident`.
 * `phones=1` adds `event: phone` messages with a phone's new state whenever it changes.
 */
import type { ServerContext } from '../context.ts';
import type { BusMessage } from '../bus.ts';
import type { HttpRequest, HttpResponse } from '../../http/types.ts';
import type { StoredEvent } from '../../store/types.ts';
import { eventJson, phoneJson } from './json.ts';
import { cursorParam, incidentParam, macParam, onlyParams, ParamError } from './params.ts';
import { StreamBudget, type BudgetMember } from './stream-budget.ts';

export interface StreamOptions {
  /** A comment line this often keeps proxies and idle timeouts from closing a quiet stream. */
  heartbeatMs: number;
  /**
   * A client with this many bytes unsent (it does not read) is dropped; it can resume with Last-Event-ID.
   * Replaying missed events waits for the client to take them before sending more.
   */
  maxBufferedBytes: number;
  /** Most stream clients at once; beyond, `503`. */
  maxClients: number;
  /**
   * Unsent bytes all stream clients together may hold; past it the clients with the most unsent bytes are
   * dropped first (see stream-budget.ts). Default: no total beyond `maxClients` × `maxBufferedBytes`.
   */
  maxTotalBytes?: number;
}

/** A replay waits this long at most for a client to take what was sent before dropping it. */
const REPLAY_STALL_MS = 30_000;
/** Live messages held while a replay runs. */
const MAX_EARLY = 10_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const REPLAY_PAGE = 500;

function lastEventId(req: HttpRequest): number | undefined {
  const header = req.headers['last-event-id'];
  if (header !== undefined && header.trim() !== '') {
    const n = Number(header.trim());
    if (!Number.isSafeInteger(n) || n < 0) throw new ParamError('Last-Event-ID must be an event id');
    return n;
  }
  return cursorParam(req.query, 'last_event_id');
}

export function createStreamHandler(ctx: ServerContext, opts: StreamOptions) {
  let clients = 0;
  const budget = new StreamBudget(opts.maxTotalBytes ?? Infinity, () => ctx.metrics.streamMemoryDropped.inc());
  ctx.metrics.streamUnsent.bytes = () => budget.total;
  // A live message goes to every client in the same words: made into bytes once and shared, so 200 clients
  // cost one copy of a big event (in CPU and, while they have not taken it, in memory), not 200.
  const eventBytes = new WeakMap<StoredEvent, Buffer>();
  const phoneBytes = new WeakMap<BusMessage, Buffer>();
  const eventText = (e: StoredEvent) => {
    let bytes = eventBytes.get(e);
    if (!bytes) {
      bytes = Buffer.from(`id: ${e.id}\ndata: ${JSON.stringify(eventJson(e))}\n\n`, 'utf8');
      eventBytes.set(e, bytes);
    }
    return bytes;
  };
  const phoneText = (m: BusMessage) => {
    let bytes = phoneBytes.get(m);
    if (!bytes) {
      bytes = Buffer.from(`event: phone\ndata: ${JSON.stringify(phoneJson(m.phone, ctx.now(), ctx.settings.offlineAfterMs, ctx.inventory.get(m.phone.mac)))}\n\n`, 'utf8');
      phoneBytes.set(m, bytes);
    }
    return bytes;
  };
  return async (req: HttpRequest, res: HttpResponse): Promise<void> => {
    onlyParams(req.query, ['mac', 'incident', 'phones', 'last_event_id']);
    const mac = macParam(req.query.get('mac'));
    const incident = incidentParam(req.query);
    const withPhones = req.query.get('phones') === '1' || req.query.get('phones') === 'true';
    const resumeFrom = lastEventId(req);

    if (req.method !== 'HEAD' && clients >= opts.maxClients) {
      ctx.metrics.streamRefused.inc();
      res.json(
        503,
        { error: `too many event-stream clients (limit ${opts.maxClients}); try again later` },
        { 'Retry-After': '10' },
      );
      return;
    }

    const stream = res.stream(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      'X-Accel-Buffering': 'no',
    });
    // HEAD: the headers were all of it.
    if (stream.closed) return;
    clients++;
    ctx.metrics.streamClients.set(clients);

    const matches = (e: StoredEvent) => (mac === undefined || e.mac === mac) && (incident === undefined || e.incident === incident);
    let lastSent = resumeFrom ?? 0;
    let live = false;
    const early: BusMessage[] = [];

    // A dropped client is cut at once: it is not reading, so what it holds would only wait for the socket's
    // own timeout, in memory, before going nowhere.
    const member: BudgetMember = { get buffered() { return stream.buffered; }, drop: () => stream.abort() };
    budget.add(member);
    const send = (text: string | Buffer) => {
      if (stream.closed) return;
      const taken = stream.write(text);
      if (!taken && stream.buffered > opts.maxBufferedBytes) {
        ctx.metrics.streamDropped.inc();
        stream.abort();
      } else {
        budget.wrote(typeof text === 'string' ? Buffer.byteLength(text) : text.length);
      }
    };
    /** During a replay: wait until the client took most of what was sent (false: it was dropped or left). */
    const caughtUp = async () => {
      let waited = 0;
      while (!stream.closed && stream.buffered > opts.maxBufferedBytes / 2) {
        if (waited >= REPLAY_STALL_MS) {
          ctx.metrics.streamDropped.inc();
          stream.abort();
          break;
        }
        await sleep(20);
        waited += 20;
      }
      return !stream.closed;
    };
    const sendEvent = (e: StoredEvent) => {
      if (e.id <= lastSent || !matches(e)) return;
      lastSent = e.id;
      send(eventText(e));
    };
    const deliver = (m: BusMessage) => {
      if (m.type === 'event') sendEvent(m.event);
      if (withPhones && (mac === undefined || m.phone.mac === mac)) {
        send(phoneText(m));
      }
    };

    // Subscribe before replaying, keeping what arrives meanwhile, so nothing falls between replay and live.
    // A replay that takes long while events pour in: past MAX_EARLY held messages the client is dropped
    // (it resumes with Last-Event-ID) rather than holding them all.
    const unsubscribe = ctx.bus.subscribe((m) => {
      if (live) deliver(m);
      else if (!stream.closed && early.push(m) > MAX_EARLY) {
        early.length = 0;
        ctx.metrics.streamDropped.inc();
        stream.end();
      }
    });
    const heartbeat = setInterval(() => send(': keep-alive\n\n'), opts.heartbeatMs);
    heartbeat.unref();
    stream.onClose(() => {
      budget.delete(member);
      unsubscribe();
      clearInterval(heartbeat);
      clients--;
      ctx.metrics.streamClients.set(clients);
    });

    send('retry: 2000\n\n');
    if (resumeFrom !== undefined) {
      try {
        replay: for (;;) {
          const page = await ctx.store.eventsAfter(lastSent, REPLAY_PAGE, { mac, incident });
          for (const e of page) {
            sendEvent(e);
            if (stream.buffered > opts.maxBufferedBytes / 2 && !(await caughtUp())) break replay;
          }
          if (page.length < REPLAY_PAGE || stream.closed) break;
        }
      } catch (err) {
        ctx.logger.error({ err }, 'stream replay failed');
        stream.end();
        return;
      }
    }
    live = true;
    for (const m of early.splice(0)) deliver(m);
  };
}
