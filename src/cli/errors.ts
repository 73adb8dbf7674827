/** An error the user can fix by changing the command line: printed as one line, exit code 2. */
export class UsageError extends Error {}
