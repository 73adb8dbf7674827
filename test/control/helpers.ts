/**
 * A receiver and virtual phones of any vendor over real sockets, for remote-control tests: each phone's
 * Action URL points at the receiver, its control endpoint listens on its own web port.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { ingestConfig } from '../../src/core/ingest-url.ts';
import type { VendorId } from '../../src/core/vendors/index.ts';
import { createPhone, type Phone } from '../../src/phone/phone.ts';
import { startPhoneWeb, type PhoneWeb } from '../../src/phone/web/server.ts';
import type { RemoteControlOptions } from '../../src/phone/control/remote.ts';
import { startTestReceiver, type TestReceiver } from '../server/helpers/receiver.ts';
import type { ServerOptions } from '../../src/start.ts';

export interface ControlledPhone {
  phone: Phone;
  web: PhoneWeb;
  mac: string;
}

export async function receiver(options: ServerOptions = {}): Promise<TestReceiver> {
  const r = await startTestReceiver(options);
  after(() => r.cleanup());
  return r;
}

/** A phone whose Action URL points at `r`'s server (a TestReceiver, or any running server as `{ server }`). */
export async function virtualPhone(
  r: Pick<TestReceiver, 'server'>,
  vendor: VendorId,
  opts: { remoteControl?: RemoteControlOptions; actionUrl?: boolean; mac?: string; password?: string } = {},
): Promise<ControlledPhone> {
  const config = ingestConfig(r.server.url);
  const phone = createPhone({
    vendor,
    ...(opts.mac ? { mac: opts.mac } : {}),
    actionUrl: opts.actionUrl === false ? { ...config, enabled: false } : config,
  });
  const web = await startPhoneWeb(phone, { remoteControl: opts.remoteControl ?? { allow: '127.0.0.1' }, ...(opts.password ? { password: opts.password } : {}) });
  after(async () => {
    await web.close();
    await phone.close();
  });
  phone.act({ do: 'boot' });
  phone.act({ do: 'register' });
  await phone.drained();
  return { phone, web, mac: phone.mac };
}

export async function setControl(r: TestReceiver, mac: string, body: Record<string, unknown>) {
  return r.api(`/api/v1/phones/${mac}/control`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

export async function command(r: TestReceiver, mac: string, body: Record<string, unknown>) {
  return r.api(`/api/v1/phones/${mac}/commands`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/**
 * Asks for a command until it reaches one of `final` (default: confirmed or failed); the test's timeout
 * bounds it. Asking with ?wait= makes the receiver answer when the command is final.
 */
export async function finished(r: TestReceiver, id: string, final: readonly string[] = ['confirmed', 'failed']): Promise<any> {
  const wait = final.includes('accepted') ? '' : '?wait=5';
  for (;;) {
    const got = await r.api(`/api/v1/commands/${id}${wait}`);
    assert.equal(got.status, 200);
    if (final.includes(got.body.status)) return got.body;
    await new Promise((res) => setTimeout(res, 20));
  }
}

/** Sends a command and waits for its outcome. */
export async function run(r: TestReceiver, mac: string, body: Record<string, unknown>): Promise<any> {
  const sent = await command(r, mac, body);
  if (sent.status !== 202) throw new Error(`POST commands answered ${sent.status}: ${JSON.stringify(sent.body)}`);
  return finished(r, sent.body.id, body.command === 'keys' ? ['accepted', 'failed'] : ['confirmed', 'failed']);
}

/** The stopped receiver's SQLite database and write-ahead log as bytes (those that exist), to look for secrets in. */
export function storedFiles(r: TestReceiver): Array<[name: string, bytes: Buffer]> {
  return ['db.sqlite', 'db.sqlite-wal']
    .filter((f) => existsSync(join(r.dir, f)))
    .map((f) => [f, readFileSync(join(r.dir, f))]);
}
