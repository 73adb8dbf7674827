/**
 * The transactional outbox across a crash: `actionurl serve` as a child with a webhook that refuses
 * everything, events acknowledged, the receiver killed with SIGKILL while deliveries are pending, then
 * started again against a webhook that now accepts: every event arrives, none lost, and each delivery keeps
 * the webhook-id it had before the crash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServe, type ServeChild } from '../server/helpers/child.ts';
import { sendRaw } from '../server/helpers/raw-client.ts';
import { newSecret, startHookServer, verifyStandardWebhook } from './helpers/hook-server.ts';

const EVENTS = 40;

interface Body {
  type: string;
  data: { event?: { id: number; mac: string; extra: Record<string, string> } };
}

test('kill -9 with deliveries pending: all delivered after restart, ids unchanged', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-fwd-kill-'));
  const db = join(dir, 'db.sqlite');
  let accept = false;
  const hook = await startHookServer(() => ({ status: accept ? 200 : 503 }));
  const secret = newSecret();
  const children: ServeChild[] = [];
  try {
    const first = await spawnServe(['--db', db, '--webhook', hook.url, '--webhook-secret', secret]);
    children.push(first);
    for (let i = 0; i < EVENTS; i++) {
      const mac = `0015650000${String(i % 8).padStart(2, '0')}`;
      const req = `GET /actionurl/dnd_on?mac=${mac}&seq=${i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
      const { responses } = await sendRaw(first.port, Buffer.from(req));
      assert.equal(responses[0].status, 200);
    }
    // Some deliveries were attempted (and refused) before the crash: their ids are known.
    await hook.waitFor(5);
    first.child.kill('SIGKILL');
    await first.exited;
    const idsBefore = new Map<number, string>();
    for (const r of hook.received) {
      const b = r.json as unknown as Body;
      if (b.type === 'phone.dnd_on' && b.data.event) idsBefore.set(b.data.event.id, String(r.headers['webhook-id']));
    }
    assert.ok(idsBefore.size > 0);

    accept = true;
    const seenBeforeRestart = hook.received.length;
    const second = await spawnServe(['--db', db, '--webhook', hook.url, '--webhook-secret', secret]);
    children.push(second);
    const delivered = new Map<number, string>();
    const end = Date.now() + 40_000;
    while (delivered.size < EVENTS && Date.now() < end) {
      for (const r of hook.received.slice(seenBeforeRestart)) {
        const b = r.json as unknown as Body;
        if (b.type !== 'phone.dnd_on' || !b.data.event) continue;
        assert.ok(verifyStandardWebhook(secret, r.headers, r.body));
        delivered.set(b.data.event.id, String(r.headers['webhook-id']));
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(delivered.size, EVENTS, 'every acknowledged event delivered after the restart');
    const seqs = new Set(
      hook.received.map((r) => (r.json as unknown as Body).data.event?.extra.seq).filter((s): s is string => s !== undefined),
    );
    assert.equal(seqs.size, EVENTS);
    for (const [eventId, id] of idsBefore) assert.equal(delivered.get(eventId), id, `event ${eventId} kept its webhook-id`);
  } finally {
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await hook.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
