/**
 * The receiver on its store, part by part: phone states, inventory, the mode, remote control, forwarding,
 * the commit queue and the HTTP handler, each added to a `Lifetime` as it is made (see each part for the
 * order they close in).
 */
import type { Lifetime } from '../core/lifetime.ts';
import { RateLimiter } from '../server/access.ts';
import { resolveAdminAccess } from '../server/admin-access.ts';
import { callJson, eventJson, phoneJson } from '../server/api/json.ts';
import { createApp } from '../server/app.ts';
import { EventBus } from '../server/bus.ts';
import type { ReceiverSettings, ServerContext } from '../server/context.ts';
import { createRefusalRecorder } from '../server/ingest.ts';
import { Inventory } from '../server/inventory.ts';
import { receiverMode } from '../server/mode/choose.ts';
import { PhoneRegistry } from '../server/phones.ts';
import { RejectionSampler } from '../server/rejections.ts';
import { StoreHealth } from '../server/store-health.ts';
import type { PhoneState } from '../domain/types.ts';
import type { Store } from '../store/types.ts';
import { isAuthorizedByCookie } from '../web/auth.ts';
import { createWebHandler } from '../web/routes.ts';
import { announceReceiver } from './announce.ts';
import { runBackground } from './background.ts';
import { openCommits } from './commits.ts';
import { startControl } from './control.ts';
import { mqttBridge, startForwarder } from './forwarding.ts';
import type { Receiver, Start } from './parts.ts';

export async function assemble(start: Start, store: Store, life: Lifetime): Promise<Receiver> {
  const { config, logger, metrics } = start;
  const { now } = config;
  const phones = new PhoneRegistry();
  const inventory = new Inventory();
  for (const entry of await store.loadInventory()) inventory.set(entry);
  const bus = new EventBus((err) => logger.error({ err }, 'an event subscriber failed'));
  const mode = receiverMode({ store, phones, bus, logger, now, followPollMs: config.store.followPollMs, onForget: (mac) => inventory.delete(mac) });
  // Commits what is queued and stores the states once requests in hand are answered (see below).
  life.add('mode', () => mode.close());
  await mode.loadStates();
  const journal = mode.journal;
  if (journal) metrics.registry.gauge('actionurl_journal_batches', 'Write batches held in the local journal while PostgreSQL is away', () => journal.journalled);
  const control = await startControl(start, { store, mode, phones, bus }, life);
  const shapes = { event: eventJson, phone: (p: PhoneState, at: number) => phoneJson(p, at, config.offlineAfterMs), call: callJson };
  const mqtt = mqttBridge(start, { phones, control, shapes });
  const forwarder = await startForwarder(start, { store, mode, phones, shapes, mqtt }, life);
  const storeHealth = new StoreHealth(now);
  const commits = openCommits(start, mode, forwarder, storeHealth);
  if (forwarder) forwarder.flushCalls = () => mode.flushState();
  const replayed = await mode.catchUp();
  if (replayed > 0) logger.info({ events: replayed }, 'phone states brought up to date from stored events');
  const access = await resolveAdminAccess({ adminToken: config.secrets.adminToken, open: config.open }, store);
  const settings: ReceiverSettings = {
    token: config.secrets.token,
    tokenSecret: config.secrets.tokenSecret,
    adminToken: access.adminToken,
    trustLocal: access.mode === 'local',
    publicUrl: config.publicUrl,
    tls: config.listen.tls !== undefined,
    offlineAfterMs: config.offlineAfterMs,
    dbTimeoutMs: config.store.timeoutMs,
  };
  const ctx: ServerContext = {
    store, phones, inventory, bus, commits, mode, metrics, logger, settings, control, now, follower: mode.follower, forwarder, storeHealth,
    ...(mqtt ? { phoneForgotten: (mac: string) => void mqtt.removePhone(mac) } : {}),
  };
  forwarder?.start(commits, (listener) => bus.subscribe(listener));
  const sampler = new RejectionSampler(config.rejectionPolicy);
  // Summaries of refusals still open are written once requests in hand are answered, before the queue closes.
  life.add('refusal summaries', () => {
    for (const row of sampler.drain(now(), true)) void commits.addRejected(row).catch(() => {});
  }, { closesAfter: 'control' });
  const ingestOptions = { allowlist: config.allowlist, rateLimiter: config.rateLimit ? new RateLimiter(config.rateLimit) : undefined, sampler, maxPhones: config.maxPhones };
  const handler = await createApp(ctx, {
    ...ingestOptions,
    ownHosts: config.ownHosts,
    // The dashboard reads the receiver's settings on every request, so it follows them.
    dashboard: {
      handler: createWebHandler(ctx),
      signedIn: (req) => isAuthorizedByCookie(req, ctx.settings.adminToken),
    },
    stream: config.stream,
  });
  return {
    ctx,
    handler,
    onRefused: createRefusalRecorder(ctx, sampler),
    run: () => runBackground(start, { store, mode, commits, sampler }, life),
    announceLines: (url) => announceReceiver(config, { ctx, access, forwarder }, url),
    replay: { sampler, maxPhones: ingestOptions.maxPhones },
  };
}
