/**
 * The phone's Action URL settings, as on the web page Phone → Action URL: the "Active" switch and one URL
 * per incident. Every URL goes through the core linter; an error blocks saving, a warning is shown.
 */
import { INCIDENTS, isIncidentSlug } from '../../core/catalog.ts';
import { lint, type LintProblem } from '../../core/templates.ts';
import type { ActionUrlConfig } from '../../core/vendors/index.ts';

export interface UrlProblem extends LintProblem {
  slug: string;
}

export interface ConfigCheck {
  ok: boolean;
  errors: UrlProblem[];
  warnings: UrlProblem[];
}

/** An empty URL means "no URL" for that incident, as on the phone's page. */
export function normalizeConfig(config: ActionUrlConfig): ActionUrlConfig {
  const urls: Record<string, string> = {};
  for (const i of INCIDENTS) {
    const url = config.urls[i.slug]?.trim();
    if (url) urls[i.slug] = url;
  }
  for (const slug of Object.keys(config.urls)) {
    if (!isIncidentSlug(slug) && config.urls[slug]?.trim()) urls[slug] = config.urls[slug].trim();
  }
  return { enabled: Boolean(config.enabled), urls };
}

export function checkConfig(config: ActionUrlConfig): ConfigCheck {
  const errors: UrlProblem[] = [];
  const warnings: UrlProblem[] = [];
  for (const [slug, url] of Object.entries(config.urls)) {
    if (url.trim() === '') continue;
    if (!isIncidentSlug(slug)) {
      errors.push({ slug, severity: 'error', code: 'unknown_incident', message: `unknown incident "${slug}"`, index: 0, length: 0 });
      continue;
    }
    const r = lint(url, slug);
    errors.push(...r.errors.map((p) => ({ ...p, slug })));
    warnings.push(...r.warnings.map((p) => ({ ...p, slug })));
  }
  return { ok: errors.length === 0, errors, warnings };
}

export const EMPTY_CONFIG: ActionUrlConfig = Object.freeze({ enabled: false, urls: Object.freeze({}) }) as ActionUrlConfig;
