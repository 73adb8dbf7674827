/**
 * A `--db` value or database the user must change or fix before the receiver can start: the message is one
 * line that names the problem and what to do, fit to print as is (the command line exits with code 2).
 */
export class StoreConfigError extends Error {}
