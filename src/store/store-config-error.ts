/**
 * A `--db` value or database the user must change (unreachable server, newer schema, not a database file);
 * the message is one line, fit to print as is. Its own module so the schema code can throw it without
 * importing the store opener.
 */
export class StoreConfigError extends Error {}

/**
 * PostgreSQL could not be reached at start (refused, timed out, unknown host, starting up): not a mistake in
 * the flags as such, and possibly over in a moment. `actionurl serve` exits with its own code for it
 * (75, "try again later"), so a service manager can restart on it and not on a real mistake (exit 2).
 */
export class StoreUnreachableError extends StoreConfigError {}
