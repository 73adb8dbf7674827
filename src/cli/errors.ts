/** An error the user can fix by changing the command line: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** Exit code for "a service this needs cannot be reached now; try again later" (sysexits' EX_TEMPFAIL). */
export const TEMPFAIL_EXIT_CODE = 75;

/** Printed as one line like a UsageError, but nothing needs changing: exit code 75, a service manager may retry. */
export class TemporaryError extends UsageError {}
