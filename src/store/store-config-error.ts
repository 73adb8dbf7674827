/**
 * A `--db` value or database the user must change (unreachable server, newer schema, not a database file);
 * the message is one line, fit to print as is. Its own module so the schema code can throw it without
 * importing the store opener.
 */
export class StoreConfigError extends Error {}
