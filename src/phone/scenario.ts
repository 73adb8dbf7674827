/**
 * Scenario files: a JSON array of steps in the scenario vocabulary, run against one phone in order. The
 * phone decides the incidents; a step the phone cannot do stops the run with the reason.
 */
import { parseStep, type ScenarioStep } from './engine/index.ts';
import type { Clock, Phone } from './phone.ts';
import type { Delivery } from './sender/index.ts';

export function parseScenario(text: string): ScenarioStep[] | { error: string } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { error: `not JSON: ${(err as Error).message}` };
  }
  if (!Array.isArray(data)) return { error: 'a scenario is a JSON array of steps, e.g. [{"do":"boot"},{"do":"register"}]' };
  const steps: ScenarioStep[] = [];
  for (const [i, raw] of data.entries()) {
    const s = parseStep(raw);
    if ('error' in s) return { error: `step ${i + 1}: ${s.error}` };
    steps.push(s);
  }
  return steps;
}

export interface ScenarioOptions {
  /** How `wait` waits; default real time. */
  sleep?: (ms: number) => Promise<void>;
  /** Called as each step starts (1-based). */
  onStep?: (index: number, step: ScenarioStep) => void;
}

export type ScenarioOutcome =
  | { ok: true; deliveries: Delivery[] }
  | { ok: false; step: number; action: string; error: string; deliveries: Delivery[] };

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runScenario(phone: Phone, steps: readonly ScenarioStep[], opts: ScenarioOptions = {}): Promise<ScenarioOutcome> {
  const sent: Promise<Delivery>[] = [];
  for (const [i, s] of steps.entries()) {
    opts.onStep?.(i + 1, s);
    if (s.do === 'wait') {
      await (opts.sleep ?? realSleep)(s.ms);
      sent.push(...phone.tick().deliveries);
      continue;
    }
    const r = phone.act(s);
    if ('error' in r) {
      return { ok: false, step: i + 1, action: s.do, error: r.error, deliveries: await Promise.all(sent) };
    }
    sent.push(...r.deliveries);
  }
  return { ok: true, deliveries: await Promise.all(sent) };
}

/** A clock that only moves when `sleep` is called: scenarios with long waits run instantly in tests. */
export function virtualClock(): Clock & { sleep(ms: number): Promise<void> } {
  let t = 0;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
  };
}
