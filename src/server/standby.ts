/**
 * A receiver on PostgreSQL that is restarted while the database is away starts on its local journal: phones
 * never retry, so the requests they send while it cannot reach PostgreSQL must be answered and kept all the
 * same. Without the database it cannot know the phones' states, the destinations switched off, the stored
 * admin token or how many phones it keeps, so it does not ingest yet: it answers each phone's request with
 * the checks that need none of that (source, rate, method, token, a usable incident and MAC: ingest.ts's
 * checkIngest), keeps the request as it came in the journal (fsync'd before the answer, as an event is),
 * and answers everything else "starting" until PostgreSQL is reached. Then `replayHeld` puts the kept
 * requests through the receiver's own ingest, in order, with the time each arrived: they are stored,
 * reduced, forwarded and refused exactly as if the database had been there.
 */
import type { HttpHandler, HttpRefusal, HttpRequest, HttpResponse } from '../http/types.ts';
import type { HeldRequest } from '../store/journal.ts';
import type { NewRejected } from '../store/types.ts';
import type { Allowlist, RateLimiter } from './access.ts';
import type { ReceiverSettings } from './context.ts';
import { checkIngest, NOT_STORED, NOT_STORED_DISK_FULL } from './ingest.ts';

/** Where held requests are kept: the local journal (src/store/journal.ts). */
export interface HeldRequests {
  readonly held: number;
  hold(request: HeldRequest): void;
  oldestHeld(limit: number): (HeldRequest & { id: number })[];
  forgetHeld(id: number): void;
}

export interface StandbyOptions {
  journal: HeldRequests;
  /** The tokens given by flags: the only ones known before the database is reached. */
  settings: Pick<ReceiverSettings, 'token' | 'tokenSecret' | 'adminToken'>;
  allowlist?: Allowlist;
  rateLimiter?: RateLimiter;
  now(): number;
  /** Why the receiver is on its journal, for `/healthz` and the "starting" answers. */
  reason(): string;
  /**
   * Refused requests kept for the record at most (each is also answered); beyond, they are only counted, so
   * a flood of wrong tokens cannot fill the disk while the database is away. Default 10,000.
   */
  maxRefusalsHeld?: number;
  /** A request could not be kept (the journal's disk is full, say): the phone got a 503. */
  onError(err: unknown): void;
}

const TEXT = { 'Content-Type': 'text/plain; charset=utf-8' };

function isIngestPath(path: string): boolean {
  return path === '/actionurl' || path.startsWith('/actionurl/');
}

/** The HTTP handler (and the HTTP layer's refusal hook) of a receiver started on its journal. */
export function createStandby(opts: StandbyOptions): { handler: HttpHandler; onRefused(refusal: HttpRefusal): void; refusalsDropped(): number } {
  const maxRefusals = opts.maxRefusalsHeld ?? 10_000;
  let refusalsHeld = 0;
  let dropped = 0;

  const keep = (request: HeldRequest): boolean => {
    if (request.refusal) {
      if (refusalsHeld >= maxRefusals) {
        dropped++;
        return true;
      }
      refusalsHeld++;
    }
    try {
      opts.journal.hold(request);
      return true;
    } catch (err) {
      opts.onError(err);
      return false;
    }
  };

  const starting = (req: HttpRequest, res: HttpResponse): void => {
    const error = `the receiver is starting: ${opts.reason()}; phones' events are kept in the local journal and the dashboard and API answer once the database is reached`;
    if (req.path.startsWith('/api/')) res.json(503, { error }, { 'Retry-After': '5' });
    else res.send(503, `${error}\n`, { ...TEXT, 'Retry-After': '5' });
  };

  const handler: HttpHandler = (req, res) => {
    if (req.path === '/healthz') {
      // Phones' events are taken (into the journal): a load balancer must keep sending them here.
      res.json(200, { status: 'degraded', store: 'postgres', starting: true, error: opts.reason(), held: opts.journal.held });
      return;
    }
    if (!isIngestPath(req.path)) return starting(req, res);
    const receivedAt = opts.now();
    const checked = checkIngest(req, opts.settings as ReceiverSettings, opts, receivedAt);
    const request: HeldRequest = { receivedAt, sourceIp: req.remoteAddress, method: req.method, rawTarget: req.rawTarget };
    if (checked.refusal) {
      const { status, reason, result } = checked.refusal;
      keep({ ...request, refusal: { status, reason, result } });
      res.send(status, `${reason}\n`, TEXT);
      return;
    }
    if (!keep(request)) {
      res.send(503, NOT_STORED, TEXT);
      return;
    }
    res.send(200, 'OK\n', TEXT);
  };

  const onRefused = (refusal: HttpRefusal): void => {
    keep({
      receivedAt: opts.now(),
      sourceIp: refusal.remoteAddress,
      method: refusal.method,
      rawTarget: refusal.rawTarget,
      refusal: { status: refusal.status, reason: refusal.reason, result: `http_${refusal.status}` },
    });
  };

  return { handler, onRefused, refusalsDropped: () => dropped };
}

export interface ReplayOptions {
  journal: HeldRequests;
  /**
   * The receiver's ingest handler, built on a context whose clock is `clock.at`: each held request is handed
   * over with the clock set to the time it arrived (ingest reads the clock once, as the request comes in).
   */
  ingest: HttpHandler;
  clock: { at: number };
  /** Keeps a refused request (as ingest.ts's recordRejected does), with its own time and the given code. */
  recordRefusal(row: NewRejected, result: string): Promise<void>;
  /** Redacts a target for storage (ingest.ts's redactForStorage with the receiver's settings). */
  redact(target: Buffer): Buffer;
  /** Requests handed to ingest together (they are group-committed). Default 256. */
  chunk?: number;
  /** Called with no await between the last empty read and the call: the moment to swap handlers. */
  onEmpty(): void;
}

/** What a held request's ingest answered, when it was not a 200 (kept for the log). */
interface Answer {
  status: number;
  body?: string | Buffer;
}

/**
 * Puts the held requests through ingest, oldest first, chunk by chunk, forgetting each chunk once ingest
 * has stored it (committed, or journalled as a batch if the database went away again). Requests held while
 * this runs are taken too; `onEmpty` is called when none is left. A receiver killed between a chunk's commit
 * and forgetting it stores that chunk again at its next start: at most one chunk is stored twice. A chunk
 * that could not be stored (the disk is full) is not forgotten: this throws, to be tried again.
 * Returns how many requests went through and how many ingest did not answer 200 (refused, or over the limit).
 */
export async function replayHeld(opts: ReplayOptions): Promise<{ replayed: number; refused: number }> {
  const chunk = opts.chunk ?? 256;
  let replayed = 0;
  let refused = 0;
  for (;;) {
    const rows = opts.journal.oldestHeld(chunk);
    if (rows.length === 0) {
      opts.onEmpty();
      return { replayed, refused };
    }
    const answers: Answer[] = [];
    const work: Promise<unknown>[] = [];
    for (const row of rows) {
      if (row.refusal) {
        const record: NewRejected = {
          receivedAt: row.receivedAt, sourceIp: row.sourceIp, method: row.method,
          status: row.refusal.status, reason: row.refusal.reason, rawTarget: opts.redact(row.rawTarget), count: 1,
        };
        work.push(opts.recordRefusal(record, row.refusal.result));
        refused++;
        continue;
      }
      const answer: Answer = { status: 0 };
      answers.push(answer);
      opts.clock.at = row.receivedAt;
      work.push(Promise.resolve(opts.ingest(heldAsRequest(row), answerRecorder(answer))));
    }
    await Promise.all(work);
    const failed = answers.find((a) => a.body === NOT_STORED || a.body === NOT_STORED_DISK_FULL);
    // Kept for the next try (the receiver retries): what of this chunk was stored is stored again then.
    if (failed) throw new Error(`held requests could not be stored yet: ${String(failed.body).trim()}`);
    for (const a of answers) if (a.status !== 200) refused++;
    replayed += rows.length;
    opts.journal.forgetHeld(rows[rows.length - 1].id);
  }
}

function heldAsRequest(row: HeldRequest): HttpRequest {
  return {
    method: row.method,
    rawTarget: row.rawTarget,
    path: '/actionurl',
    query: new URLSearchParams(),
    headers: Object.create(null) as Record<string, string>,
    httpVersion: 'HTTP/1.1',
    body: Buffer.alloc(0),
    remoteAddress: row.sourceIp,
    receivedAt: performance.now(),
  };
}

/** A response that only notes its status: the phone was answered when the request was held. */
function answerRecorder(answer: Answer): HttpResponse {
  return {
    send(status, body) {
      answer.status = status;
      answer.body = body;
    },
    json(status) {
      answer.status = status;
    },
    stream() {
      throw new Error('a held request has no stream');
    },
    get sent() {
      return answer.status !== 0;
    },
  };
}
