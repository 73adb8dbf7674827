/**
 * The database cannot take this write now (unreachable, or still catching up with the local journal) and it
 * is not one the journal keeps (an administrator's change: inventory, forgetting a phone). Nothing was
 * changed; the message is one line that says to try again. The API answers it with 503.
 */
export class StoreUnavailableError extends Error {}
