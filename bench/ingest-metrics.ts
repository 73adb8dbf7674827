/**
 * The receiver's /metrics as the ingest benchmark reads them: scraped before and after a run, the
 * differences give the events stored, the group commits and their sizes, the SQLite writer's transactions
 * and statements; the checkpoint lag is read as it is at the end.
 */

/** Sums every series of `name` whose labels include each of `labels` (`result="stored"`). */
function sum(text: string, name: string, ...labels: string[]): number {
  let total = 0;
  let found = false;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    if (labels.every((l) => (m[1] ?? '').includes(l))) {
      total += Number(m[2]);
      found = true;
    }
  }
  return found ? total : NaN;
}

export interface ReceiverCounts {
  stored: number;
  commits: number;
  committedRequests: number;
  transactions: number;
  statements: number;
  checkpointLag: number;
}

export async function receiverCounts(port: number): Promise<ReceiverCounts> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return {
    stored: sum(text, 'actionurl_ingest_requests_total', 'result="stored"'),
    commits: sum(text, 'actionurl_commit_batch_size_count'),
    committedRequests: sum(text, 'actionurl_commit_batch_size_sum'),
    transactions: sum(text, 'actionurl_sqlite_write_transactions_total'),
    statements: sum(text, 'actionurl_sqlite_write_statements_total'),
    checkpointLag: sum(text, 'actionurl_state_checkpoint_lag_events'),
  };
}
