/**
 * The receiver's Prometheus metrics, exported by prom-client (text format 0.0.4) with its default process
 * metrics (process_resident_memory_bytes, nodejs_eventloop_lag_seconds, …) in a registry per server, since
 * tests run several receivers in one process.
 *
 * Counters and gauges are updated on every request, so they stay plain local numbers here (one string and
 * one map lookup per update) and are copied into prom-client's metrics only when /metrics is scraped
 * (their `collect()`). prom-client's own labelled `inc()` hashes and checks the labels each time, which the
 * ingest path need not pay for. Histograms are prom-client's (one observe per request or commit).
 */
import client from 'prom-client';

type Labels = Record<string, string>;

/**
 * Label sets seen so far, by their names and values in the order given, to one stable key: a counter
 * updated on every request then costs one string and one lookup. Label values are few (incidents, results,
 * status codes); past a bound the cache starts over.
 */
const labelKeys = new Map<string, string>();

function labelKey(labels: Labels): string {
  let given = '';
  // Length-prefixed, so no two different label sets give the same text.
  for (const name in labels) given += `${name.length}:${name}${labels[name].length}:${labels[name]}`;
  let key = labelKeys.get(given);
  if (key === undefined) {
    if (labelKeys.size >= 10_000) labelKeys.clear();
    key = Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',');
    labelKeys.set(given, key);
  }
  return key;
}

/** Values by label set, each with its labels for the copy into prom-client. */
class LabelledValues {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  add(labels: Labels, by: number): void {
    const key = labelKey(labels);
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { labels: { ...labels }, value: by });
  }

  set(labels: Labels, value: number): void {
    const key = labelKey(labels);
    const entry = this.values.get(key);
    if (entry) entry.value = value;
    else this.values.set(key, { labels: { ...labels }, value });
  }

  get(labels: Labels): number {
    return this.values.get(labelKey(labels))?.value ?? 0;
  }

  entries(): Iterable<{ labels: Labels; value: number }> {
    return this.values.values();
  }
}

export class Counter {
  private readonly values = new LabelledValues();
  constructor(registry: client.Registry, readonly name: string, help: string, labelNames: readonly string[]) {
    const values = this.values;
    new client.Counter({
      name, help, labelNames, registers: [registry],
      collect() {
        this.reset();
        for (const { labels, value } of values.entries()) this.inc(labels, value);
      },
    });
  }

  inc(labels: Labels = {}, by = 1): void {
    this.values.add(labels, by);
  }

  get(labels: Labels = {}): number {
    return this.values.get(labels);
  }

  /** For a total counted elsewhere (another thread): its value now, copied in before a scrape. */
  setTotal(value: number, labels: Labels = {}): void {
    this.values.set(labels, value);
  }
}

export class Gauge {
  private readonly values = new LabelledValues();
  constructor(
    registry: client.Registry,
    readonly name: string,
    help: string,
    /** Computed at scrape time, when given. */
    private readonly compute?: () => number,
    labelNames: readonly string[] = [],
  ) {
    const values = this.values;
    new client.Gauge({
      name, help, labelNames, registers: [registry],
      collect() {
        if (compute) this.set(compute());
        else for (const { labels, value } of values.entries()) this.set(labels, value);
      },
    });
  }

  set(value: number, labels: Labels = {}): void {
    this.values.set(labels, value);
  }

  get(labels: Labels = {}): number {
    return this.compute ? this.compute() : this.values.get(labels);
  }
}

export class Histogram {
  private readonly histogram: client.Histogram;
  private count = 0;
  constructor(registry: client.Registry, readonly name: string, help: string, readonly buckets: readonly number[]) {
    this.histogram = new client.Histogram({ name, help, buckets: [...buckets], registers: [registry] });
  }

  observe(value: number): void {
    this.count++;
    this.histogram.observe(value);
  }

  get observations(): number {
    return this.count;
  }
}

export class MetricsRegistry {
  readonly prometheus = new client.Registry();

  constructor() {
    client.collectDefaultMetrics({ register: this.prometheus });
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return new Counter(this.prometheus, name, help, labelNames);
  }

  gauge(name: string, help: string, compute?: () => number, labelNames: readonly string[] = []): Gauge {
    return new Gauge(this.prometheus, name, help, compute, labelNames);
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return new Histogram(this.prometheus, name, help, buckets);
  }

  /** The text a scraper reads, and its Content-Type. */
  render(): Promise<string> {
    return this.prometheus.metrics();
  }

  get contentType(): string {
    return this.prometheus.contentType;
  }
}

/** The receiver's metrics. */
export function receiverMetrics() {
  const registry = new MetricsRegistry();
  /** Set by the event stream, which alone knows its clients. */
  const streamUnsent = { bytes: () => 0 };
  return {
    registry,
    streamUnsent,
    streamUnsentBytes: registry.gauge(
      'actionurl_stream_unsent_bytes',
      'Bytes sent to event-stream clients that they have not taken yet, all clients together (capped by --stream-memory)',
      () => streamUnsent.bytes(),
    ),
    ingest: registry.counter('actionurl_ingest_requests_total', 'Action URL requests by incident and result (stored, error, or the refusal reason)', ['incident', 'result']),
    rejected: registry.counter('actionurl_rejected_requests_total', 'Refused requests by reason', ['reason']),
    rejectedSuppressed: registry.counter(
      'actionurl_rejected_suppressed_total',
      'Refused requests counted in a summary row instead of stored one by one (flood protection)',
      ['reason'],
    ),
    batchSize: registry.histogram('actionurl_commit_batch_size', 'Requests stored per group-commit transaction', [
      1, 2, 5, 10, 20, 50, 100, 200, 500, 1000,
    ]),
    commitSeconds: registry.histogram('actionurl_commit_duration_seconds', 'Duration of a group-commit transaction', [
      0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1,
    ]),
    ingestSeconds: registry.histogram(
      'actionurl_ingest_latency_seconds',
      'From a request head received to its answer being sent (includes the commit wait)',
      [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    ),
    commitErrors: registry.counter('actionurl_commit_errors_total', 'Group-commit transactions that failed'),
    checkpointLag: registry.gauge(
      'actionurl_state_checkpoint_lag_events',
      'Events committed after the newest stored phone-state checkpoint: what start-up replays after a crash (0 on PostgreSQL, which stores states with each event)',
    ),
    sqliteTransactions: registry.counter(
      'actionurl_sqlite_write_transactions_total',
      'Write transactions the SQLite writer committed: group commits, state-checkpoint chunks and other batches (0 on PostgreSQL)',
    ),
    sqliteStatements: registry.counter(
      'actionurl_sqlite_write_statements_total',
      'SQL statements those write transactions ran, BEGIN and COMMIT not counted (0 on PostgreSQL)',
    ),
    storeFull: registry.counter(
      'actionurl_store_full_total',
      'Transactions refused because the disk (or the database size cap) is full; their requests were answered 503',
    ),
    httpResponses: registry.counter('actionurl_http_responses_total', 'HTTP answers by status code', ['code']),
    connections: registry.gauge('actionurl_open_connections', 'Open client connections'),
    acceptErrors: registry.counter(
      'actionurl_accept_errors_total',
      'New connections that could not be accepted, by error (EMFILE, ENFILE: out of file descriptors)',
      ['code'],
    ),
    socketsFull: registry.counter(
      'actionurl_sockets_full_total',
      'New connections that found the receiver at its socket budget (the open-file limit less a reserve), by outcome: idle connections closed to make room, or the new one refused',
      ['outcome'],
    ),
    connectionsRefused: registry.counter(
      'actionurl_connections_refused_total',
      'Connections closed at once because their source address already had --max-connections-per-address open',
    ),
    streamClients: registry.gauge('actionurl_stream_clients', 'Connected event-stream (SSE) clients'),
    streamDropped: registry.counter(
      'actionurl_stream_dropped_total',
      'Event-stream clients dropped because they did not read (unsent bytes over the limit)',
    ),
    streamMemoryDropped: registry.counter(
      'actionurl_stream_memory_dropped_total',
      'Event-stream clients dropped, most unsent bytes first, because all stream clients together held more than --stream-memory',
    ),
    streamRefused: registry.counter(
      'actionurl_stream_refused_total',
      'Event-stream requests answered 503 because the most concurrent stream clients were connected',
    ),
    phones: registry.gauge('actionurl_phones', 'Phones known to the receiver (each held in memory)'),
    openCalls: registry.gauge('actionurl_open_calls', 'Calls not yet ended, over all phones (at most 8 per phone)'),
    pruned: registry.counter('actionurl_retention_deleted_rows_total', 'Rows deleted by retention'),
    deliveries: registry.counter(
      'actionurl_forward_deliveries_total',
      'Forwarding attempts by destination and result (delivered, failed: will retry, dead: gave up, gone: 410)',
      ['destination', 'result'],
    ),
    outboxDepth: registry.gauge('actionurl_forward_outbox_depth', 'Deliveries waiting to be made (pending or failed), by destination', undefined, [
      'destination',
    ]),
    deliverySeconds: registry.histogram('actionurl_forward_delivery_latency_seconds', 'From an event received to its delivery confirmed', [
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300, 3600,
    ]),
  };
}

export type ReceiverMetrics = ReturnType<typeof receiverMetrics>;
