/**
 * Prometheus metrics in the text exposition format (version 0.0.4), without a client library: counters and
 * gauges with labels, and histograms with fixed buckets. Cheap enough to update on every request.
 */

type Labels = Record<string, string>;

function canonicalLabelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.map((k) => `${k}="${escapeLabel(labels[k])}"`).join(',');
}

/**
 * Label sets seen so far, by their names and values in the order given, to the canonical (sorted, escaped)
 * key: a counter updated on every request then costs one string and one lookup, not a sort and escaping.
 * Label values are few (incidents, results, status codes); past a bound the cache starts over.
 */
const labelKeys = new Map<string, string>();

function labelKey(labels: Labels): string {
  let given = '';
  // Length-prefixed, so no two different label sets give the same text.
  for (const name in labels) given += `${name.length}:${name}${labels[name].length}:${labels[name]}`;
  let key = labelKeys.get(given);
  if (key === undefined) {
    if (labelKeys.size >= 10_000) labelKeys.clear();
    key = canonicalLabelKey(labels);
    labelKeys.set(given, key);
  }
  return key;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatNumber(n: number): string {
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(12)));
}

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} counter\n`;
    if (this.values.size === 0) out += `${this.name} 0\n`;
    for (const [key, v] of this.values) out += `${this.name}${key ? `{${key}}` : ''} ${formatNumber(v)}\n`;
    return out;
  }
}

export class Gauge implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    /** Computed at scrape time, when given. */
    private readonly collect?: () => number,
  ) {}

  set(value: number, labels: Labels = {}): void {
    this.values.set(labelKey(labels), value);
  }

  get(labels: Labels = {}): number {
    return this.collect ? this.collect() : (this.values.get(labelKey(labels)) ?? 0);
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} gauge\n`;
    if (this.collect) return `${out}${this.name} ${formatNumber(this.collect())}\n`;
    if (this.values.size === 0) out += `${this.name} 0\n`;
    for (const [key, v] of this.values) out += `${this.name}${key ? `{${key}}` : ''} ${formatNumber(v)}\n`;
    return out;
  }
}

export class Histogram implements Metric {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {
    this.counts = new Array(buckets.length).fill(0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= this.buckets[i]) {
        this.counts[i]++;
        break;
      }
    }
  }

  get observations(): number {
    return this.count;
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    let cumulative = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      cumulative += this.counts[i];
      out += `${this.name}_bucket{le="${formatNumber(this.buckets[i])}"} ${cumulative}\n`;
    }
    out += `${this.name}_bucket{le="+Inf"} ${this.count}\n`;
    out += `${this.name}_sum ${formatNumber(this.sum)}\n${this.name}_count ${this.count}\n`;
    return out;
  }
}

export class MetricsRegistry {
  private readonly metrics: Metric[] = [];

  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }

  gauge(name: string, help: string, collect?: () => number): Gauge {
    return this.add(new Gauge(name, help, collect));
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, buckets));
  }

  private add<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }

  render(): string {
    return this.metrics.map((m) => m.render()).join('');
  }
}

/** The receiver's metrics. */
export function receiverMetrics() {
  const registry = new MetricsRegistry();
  return {
    registry,
    ingest: registry.counter('actionurl_ingest_requests_total', 'Action URL requests by incident and result (stored, error, or the refusal reason)'),
    rejected: registry.counter('actionurl_rejected_requests_total', 'Refused requests by reason'),
    rejectedSuppressed: registry.counter(
      'actionurl_rejected_suppressed_total',
      'Refused requests counted in a summary row instead of stored one by one (flood protection)',
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
    httpResponses: registry.counter('actionurl_http_responses_total', 'HTTP answers by status code'),
    connections: registry.gauge('actionurl_open_connections', 'Open client connections'),
    streamClients: registry.gauge('actionurl_stream_clients', 'Connected event-stream (SSE) clients'),
    streamDropped: registry.counter(
      'actionurl_stream_dropped_total',
      'Event-stream clients dropped because they did not read (unsent bytes over the limit)',
    ),
    streamRefused: registry.counter(
      'actionurl_stream_refused_total',
      'Event-stream requests answered 503 because the most concurrent stream clients were connected',
    ),
    phones: registry.gauge('actionurl_phones', 'Phones known to the receiver'),
    pruned: registry.counter('actionurl_retention_deleted_rows_total', 'Rows deleted by retention'),
    deliveries: registry.counter(
      'actionurl_forward_deliveries_total',
      'Forwarding attempts by destination and result (delivered, failed: will retry, dead: gave up, gone: 410)',
    ),
    outboxDepth: registry.gauge('actionurl_forward_outbox_depth', 'Deliveries waiting to be made (pending or failed), by destination'),
    deliverySeconds: registry.histogram('actionurl_forward_delivery_latency_seconds', 'From an event received to its delivery confirmed', [
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300, 3600,
    ]),
  };
}

export type ReceiverMetrics = ReturnType<typeof receiverMetrics>;
