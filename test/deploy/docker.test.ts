/**
 * The Dockerfile and the compose example. No Docker engine runs where these tests run, so the image is not
 * built here (docs/operations.md says so); what is checked is that the files agree with each other and with
 * the package (paths, port, user, volume, settings), and the health check script runs for real against a
 * receiver.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { startTestReceiver } from '../server/helpers/receiver.ts';
import { runCli } from '../cli/run-cli.ts';
import { dockerEnv, dockerStages, type Instruction } from './unit-file.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const COMPOSE_DIR = join(ROOT, 'deploy/docker');
const HEALTHCHECK = join(COMPOSE_DIR, 'healthcheck.mjs');
const stages = dockerStages(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const [build, run] = [stages[0], stages[stages.length - 1]];
const env = dockerEnv(run);
const compose = parse(readFileSync(join(COMPOSE_DIR, 'compose.yaml'), 'utf8'));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

const all = (stage: Instruction[], op: string) => stage.filter((i) => i.op === op).map((i) => i.args);
const last = (stage: Instruction[], op: string) => all(stage, op).at(-1);
/** `["a", "b"]` (exec form) or `a b` (shell form) as words. */
const words = (args: string) => (args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(' '));

/** Runs the container's health check script with the container's environment, pointed at `port`. */
async function healthcheck(port: number) {
  try {
    await promisify(execFile)(process.execPath, [HEALTHCHECK], { env: { ...process.env, ACTIONURL_PORT: String(port) }, timeout: 30_000 });
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code, stderr: e.stderr ?? '' };
  }
}

describe('Docker image and compose example', { timeout: 120_000 }, () => {
  test('the image runs as an unprivileged user it creates, with the database in a volume that user owns', { timeout: 60_000 }, () => {
    const user = last(run, 'USER');
    assert.ok(user && user !== 'root' && user !== '0', `USER ${user}`);
    const setup = all(run, 'RUN').join(' ');
    assert.match(setup, new RegExp(`useradd .*--uid \\d+ .*\\b${user}\\b`));
    const db = env.get('ACTIONURL_DB')!;
    const volume = words(last(run, 'VOLUME')!);
    assert.ok(volume.includes(dirname(db)), `the database ${db} is in the volume ${volume.join(' ')}`);
    // Created and owned before VOLUME, or a fresh named volume would belong to root.
    assert.match(setup, new RegExp(`install -d -o ${user} -g \\S+ -m 0750 ${dirname(db)}`));
    assert.ok(run.findIndex((i) => i.op === 'USER') > run.findIndex((i) => i.op === 'RUN'), 'USER comes after the set-up that needs root');
  });

  test('the port the receiver listens on is the one exposed, published by compose and checked by the health check', { timeout: 60_000 }, () => {
    const port = env.get('ACTIONURL_PORT');
    assert.equal(last(run, 'EXPOSE'), port);
    assert.equal(env.get('ACTIONURL_HOST'), '0.0.0.0', 'reachable from outside the container');
    assert.ok(compose.services.actionurl.ports.some((p: string) => p.endsWith(`:${port}`)));
    assert.match(readFileSync(HEALTHCHECK, 'utf8'), /process\.env\.ACTIONURL_PORT/);
  });

  test('the files the build copies exist and the build context lets them through', { timeout: 60_000 }, () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    assert.equal(ignore[0], '*', 'everything is left out unless listed');
    const allowed = new Set(ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, '')));
    const fromContext = [...build, ...run].filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'));
    assert.ok(fromContext.length >= 5);
    for (const copy of fromContext) {
      const sources = words(copy.args).slice(0, -1);
      for (const source of sources) {
        assert.ok(existsSync(join(ROOT, source)), `${source} exists`);
        assert.ok(allowed.has(source.replace(/\/$/, '')), `.dockerignore lets ${source} through`);
      }
    }
    // What the build stage produces is what the run stage takes, and the command line runs from it.
    assert.match(all(build, 'RUN').join(' '), /npm run build && npm prune --omit=dev/);
    for (const dir of ['node_modules/', 'dist/', 'bin/']) assert.ok(all(run, 'COPY').some((c) => c === `--from=build /app/${dir} ${dir}`), dir);
    assert.deepEqual(words(last(run, 'ENTRYPOINT')!), ['actionurl']);
    assert.match(all(run, 'RUN').join(' '), /ln -s \/app\/bin\/actionurl\.js \/usr\/local\/bin\/actionurl/);
    assert.ok(statSync(join(ROOT, 'bin/actionurl.js')).mode & 0o111, 'bin/actionurl.js is executable');
    assert.deepEqual(words(last(run, 'CMD')!), ['serve']);
    // The Node version of the images satisfies the package's engines field.
    const nodeMajor = Number(/node:(\d+)/.exec(stages.map((s) => s[0].args).join(' '))![1]);
    assert.ok(nodeMajor >= Number(/(\d+)/.exec(pkg.engines.node)![1]));
    const healthcheckCopy = all(run, 'COPY').find((c) => c.startsWith('deploy/docker/healthcheck.mjs'));
    assert.ok(healthcheckCopy);
    assert.match(last(run, 'HEALTHCHECK')!, /CMD \["node", "\/app\/deploy\/docker\/healthcheck\.mjs"\]/);
  });

  test('compose wires the receiver to its PostgreSQL by service name with matching credentials, and mounts Mosquitto\'s config', { timeout: 60_000 }, () => {
    const { actionurl, postgres, mosquitto } = compose.services;
    const db = new URL(actionurl.environment.ACTIONURL_DB.replace(/\$\{[^}]*\}/, 'PASSWORD'));
    assert.equal(db.protocol, 'postgres:');
    assert.equal(db.hostname, 'postgres');
    assert.equal(db.username, postgres.environment.POSTGRES_USER);
    assert.equal(db.pathname, `/${postgres.environment.POSTGRES_DB}`);
    const passwordVar = (text: string) => /\$\{(\w+)/.exec(text)?.[1];
    assert.equal(passwordVar(actionurl.environment.ACTIONURL_DB), passwordVar(postgres.environment.POSTGRES_PASSWORD));
    assert.equal(actionurl.depends_on.postgres.condition, 'service_healthy');
    assert.ok(postgres.healthcheck);

    // Mosquitto: its config file is the one in the repository, listening on MQTT's port.
    assert.ok(mosquitto);
    const [confMount] = mosquitto.volumes as string[];
    assert.equal(confMount.split(':')[1], '/mosquitto/config/mosquitto.conf');
    assert.match(readFileSync(join(COMPOSE_DIR, confMount.split(':')[0]), 'utf8'), /^listener 1883$/m);

    // On PostgreSQL no key file sits beside the database: the control key sealing phone credentials comes from
    // the .env file (required), so a re-created container opens the credentials it stored before.
    assert.match(String(actionurl.environment.ACTIONURL_CONTROL_KEY), /^\$\{ACTIONURL_CONTROL_KEY:\?/);

    // The receiver's data volume is the image's VOLUME; the build context is the folder with the Dockerfile.
    const volume = words(last(run, 'VOLUME')!)[0];
    assert.ok(actionurl.volumes.some((v: string) => v.endsWith(`:${volume}`)));
    assert.ok(existsSync(join(COMPOSE_DIR, actionurl.build.context, actionurl.build.dockerfile)));
  });

  test('every ACTIONURL_ setting the image and compose set is one `actionurl serve` reads', { timeout: 120_000 }, () => {
    const help = runCli(['serve', '--help']).stdout.replace(/\s+/g, ' ');
    const names = [...env.keys(), ...Object.keys(compose.services.actionurl.environment)].filter((n) => n.startsWith('ACTIONURL_'));
    assert.ok(names.length >= 6);
    for (const name of names) assert.ok(help.includes(`env: ${name})`), `${name} is in serve --help`);
  });

  test('the health check passes on a working receiver and fails with a reason when it is down or its database is', { timeout: 120_000 }, async () => {
    const r = await startTestReceiver();
    try {
      assert.deepEqual(await healthcheck(r.port), { code: 0, stderr: '' });
      // The database gone from under the receiver: /healthz answers 503.
      await r.server.ctx.store.close();
      const broken = await healthcheck(r.port);
      assert.equal(broken.code, 1);
      assert.match(broken.stderr, /healthz: 503 .*unavailable/);
    } finally {
      await r.cleanup().catch(() => {});
    }
    // Nothing listening.
    const probe = createServer();
    await new Promise<void>((res) => probe.listen(0, '127.0.0.1', res));
    const freePort = (probe.address() as { port: number }).port;
    await new Promise((res) => probe.close(res));
    const down = await healthcheck(freePort);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /ECONNREFUSED/);
    assert.equal(down.stderr.trim().split('\n').length, 1);
  });
});
