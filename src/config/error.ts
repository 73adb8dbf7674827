/** An option the user must change; the message is one line, fit to print as is. */
export class ServerOptionError extends Error {}
