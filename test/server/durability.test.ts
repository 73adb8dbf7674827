/**
 * "Killing the server (kill -9) under load loses no acknowledged event": a real `actionurl serve` child,
 * concurrent keep-alive clients for many phones, every 200 recorded, SIGKILL mid-load, then the database
 * is opened again and every acknowledged event must be in it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { parseResponses } from './helpers/raw-client.ts';
import { spawnServe } from './helpers/child.ts';
import { startServer } from '../../src/start.ts';

const CLIENTS = 16;
const PHONES_PER_CLIENT = 20;
const KILL_AFTER_ACKS = 1500;

/** One keep-alive connection sending requests one after another until stopped; returns acknowledged markers. */
function runClient(port: number, client: number, acked: Set<string>, shouldStop: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let n = 0;
    let inFlight = '';
    const sendNext = () => {
      if (shouldStop()) return socket.destroy();
      const phone = (client * PHONES_PER_CLIENT + (n % PHONES_PER_CLIENT)).toString(16).padStart(12, '0');
      inFlight = `${client}-${n}`;
      n++;
      socket.write(
        `GET /actionurl/incoming_call?mac=${phone}&call_id=${n}&display_remote=Caller ${inFlight} Müller&remote=sip:${n}@pbx&seq=${inFlight} HTTP/1.1\r\nHost: x\r\n\r\n`,
      );
    };
    socket.on('connect', sendNext);
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      const { responses, rest } = parseResponses(buf, false);
      buf = Buffer.from(rest);
      for (const r of responses) {
        if (r.status === 200) acked.add(inFlight);
        sendNext();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve());
  });
}

test('kill -9 under load loses no acknowledged event', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-kill-'));
  const db = join(dir, 'db.sqlite');
  try {
    const s = await spawnServe(['--db', db]);
    const acked = new Set<string>();
    let killed = false;
    const clients = Array.from({ length: CLIENTS }, (_, i) =>
      runClient(s.port, i, acked, () => {
        if (!killed && acked.size >= KILL_AFTER_ACKS) {
          killed = true;
          s.child.kill('SIGKILL');
        }
        return false;
      }),
    );
    await Promise.all(clients);
    assert.equal(await s.exited, 'SIGKILL');
    assert.ok(acked.size >= KILL_AFTER_ACKS);

    const store = new SqliteStore(db);
    try {
      const stored = new Set<string>();
      let before: number | undefined;
      for (;;) {
        const page = await store.events({ limit: 1000, before });
        if (page.length === 0) break;
        for (const e of page) stored.add(e.extra.seq);
        before = page[page.length - 1].id;
      }
      const lost = [...acked].filter((seq) => !stored.has(seq));
      assert.deepEqual(lost, [], `${lost.length} of ${acked.size} acknowledged events are missing`);
      // The display names arrived with raw spaces and UTF-8 and were stored as sent.
      const [latest] = await store.events({ limit: 1 });
      assert.match(latest.vars.display_remote, /^Caller \d+-\d+ Müller$/);
    } finally {
      await store.close();
    }
    // Phone states lost with the process are rebuilt from the events when the receiver starts again.
    const again = await startServer({ db, port: 0, host: '127.0.0.1', logLevel: 'silent' });
    try {
      const macs = new Set([...acked].map((seq) => {
        const [client, n] = seq.split('-').map(Number);
        return (client * PHONES_PER_CLIENT + (n % PHONES_PER_CLIENT)).toString(16).padStart(12, '0');
      }));
      for (const mac of macs) {
        const phone = again.ctx.phones.get(mac);
        assert.ok(phone, `no state for phone ${mac}`);
        const [newest] = await again.ctx.store.events({ mac, limit: 1 });
        assert.equal(phone.lastEventId, newest.id);
      }
    } finally {
      await again.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
