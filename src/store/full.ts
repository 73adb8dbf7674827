/**
 * Recognising "no space left" from either store: SQLite's SQLITE_FULL (the disk, or a max_page_count cap) and
 * PostgreSQL's disk_full (SQLSTATE 53100). The receiver answers those 503 with that reason, counts them, and
 * keeps serving; the next write succeeds once there is space again.
 */
export function isStoreFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL' || code === '53100';
}
