/**
 * A PostgreSQL server of a test's own (initdb in a temporary folder, on a free port), for faults the shared
 * test database must not suffer: freezing it (SIGSTOP of the server and every backend, as a hung host or a
 * stuck VM looks from the network), then letting it go on. Run as the `postgres` user when the tests run
 * as root (initdb refuses root). Not there (no PostgreSQL server binaries): undefined, and on CI an error.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ON_CI } from '../store/pg-optional.ts';
import { freePort } from '../forwarding/helpers/mqtt-watch.ts';

export interface OwnPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  /** Stops the server and every backend (SIGSTOP): connections stay open, nothing answers. */
  freeze(): void;
  /** Lets them go on (SIGCONT). */
  thaw(): void;
  /** Shuts the server down, keeping its data: connections are refused until `resume`. */
  halt(): Promise<void>;
  /** Starts it again on the same port and data. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

function binDir(): string | undefined {
  const fromConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const candidates = fromConfig.status === 0 ? [fromConfig.stdout.trim()] : [];
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) candidates.push(...readdirSync(root).sort().reverse().map((v) => join(root, v, 'bin')));
  return candidates.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'postgres')));
}

/** `pid` and its descendants (the postmaster's backends and helpers). */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

export async function startOwnPostgres(): Promise<OwnPostgres | undefined> {
  const bin = binDir();
  if (!bin) {
    if (ON_CI) throw new Error('CI is set but no PostgreSQL server binaries (initdb, postgres) were found; install postgresql');
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-own-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(dir, Number(id.stdout), Number(gid.stdout));
  }
  const run = (cmd: string, args: string[]) => (asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]) as [string, string[]];
  const data = join(dir, 'data');
  const [initCmd, initArgs] = run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const [cmd, args] = run(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off']);
  let child: ChildProcess;
  let postmaster = 0;
  const launch = async () => {
    const started: ChildProcess = spawn(cmd, args, { stdio: 'ignore' });
    child = started;
    const until = Date.now() + 30_000;
    for (;;) {
      const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
      try {
        await c.connect();
        await c.end();
        break;
      } catch {
        await c.end().catch(() => {});
        if (Date.now() > until || started.exitCode !== null) throw new Error(`own PostgreSQL on port ${port} did not start`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  };
  await launch();
  // The whole tree from the process spawned here: `runuser` stops itself when its child stops and must be
  // woken too, or it never sees the server exit.
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of processTree(child.pid!)) {
      try {
        process.kill(pid, sig);
      } catch {
        // exited meanwhile
      }
    }
  };
  const shutdown = async () => {
    signal('SIGCONT');
    const exited = new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    try {
      process.kill(postmaster, 'SIGINT'); // fast shutdown
    } catch {
      // already gone
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  };
  return {
    url,
    freeze: () => signal('SIGSTOP'),
    thaw: () => signal('SIGCONT'),
    halt: shutdown,
    resume: launch,
    async stop() {
      await shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
