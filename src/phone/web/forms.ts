/** Turning the panel's and the Action URL page's form fields into actions and settings. */
import { INCIDENTS } from '../../core/catalog.ts';
import type { ActionUrlConfig } from '../../core/vendors/index.ts';
import { ACTION_ARGUMENTS, parseStep, type ScenarioStep } from '../engine/index.ts';

/** Panel form fields to a step: "true"/"false" to booleans, empty optional fields left out. */
export function stepFromForm(fields: URLSearchParams): ScenarioStep | { error: string } {
  const name = fields.get('do') ?? '';
  if (!Object.hasOwn(ACTION_ARGUMENTS, name)) return { error: `unknown action "${name}"` };
  const obj: Record<string, unknown> = { do: name };
  for (const [key, type] of Object.entries(ACTION_ARGUMENTS[name as ScenarioStep['do']])) {
    const value = fields.get(key);
    if (value === null || (value === '' && type.endsWith('?'))) continue;
    if (type === 'boolean') obj[key] = value === 'true';
    else if (type === 'number') obj[key] = Number(value);
    else obj[key] = value;
  }
  return parseStep(obj);
}

/** The Action URL form: `active` and one `url.<slug>` per incident. */
export function configFromForm(fields: URLSearchParams): ActionUrlConfig {
  const urls: Record<string, string> = {};
  for (const i of INCIDENTS) {
    const v = fields.get(`url.${i.slug}`);
    if (v !== null && v.trim() !== '') urls[i.slug] = v.trim();
  }
  return { enabled: fields.get('active') === '1', urls };
}
