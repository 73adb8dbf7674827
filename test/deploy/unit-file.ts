/** Reading systemd unit files and Dockerfiles the way their tools do, for tests that check what they say. */

/** `Key=value` lines by key, in order (a key may repeat); comments and section headers are skipped. */
export function unitSettings(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return out;
}

export interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions with continuation lines joined, split into stages at each FROM. */
export function dockerStages(text: string): Instruction[][] {
  const joined = text.replace(/\\\n/g, ' ');
  const stages: Instruction[][] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const op = m[1].toUpperCase();
    if (op === 'FROM') stages.push([]);
    stages[stages.length - 1]?.push({ op, args: m[2].replace(/\s+/g, ' ').trim() });
  }
  return stages;
}

/** `ENV A=1 B=2` instructions of a stage as one map. */
export function dockerEnv(stage: Instruction[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const i of stage.filter((s) => s.op === 'ENV')) {
    for (const m of i.args.matchAll(/(\w+)=(\S+)/g)) env.set(m[1], m[2]);
  }
  return env;
}
