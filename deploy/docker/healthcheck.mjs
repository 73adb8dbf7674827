#!/usr/bin/env node
/* global AbortSignal */
// The container's health check: GET /healthz on the receiver in this container. Exit 0 when it answers
// 200 (listening, and its database answers), 1 otherwise, with the reason on stderr (docker inspect shows it).
// The port is the container's ACTIONURL_PORT; with ACTIONURL_TLS_CERT set the receiver speaks HTTPS, and its
// certificate is for the name phones use, not for 127.0.0.1, so it is not checked here.
const port = process.env.ACTIONURL_PORT || '8080';
const scheme = process.env.ACTIONURL_TLS_CERT ? 'https' : 'http';
if (scheme === 'https') process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
const url = `${scheme}://127.0.0.1:${port}/healthz`;

try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  const body = await res.text();
  if (res.status !== 200) {
    process.stderr.write(`${url}: ${res.status} ${body.slice(0, 200)}\n`);
    process.exit(1);
  }
  process.exit(0);
} catch (err) {
  process.stderr.write(`${url}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}\n`);
  process.exit(1);
}
