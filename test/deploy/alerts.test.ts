/**
 * deploy/prometheus/actionurl-alerts.yml: every metric its rules use is one a running receiver exports (or one
 * of the few from elsewhere that the file names), so a renamed metric cannot leave an alert silently dead.
 * No Prometheus runs here: the expressions' syntax is not checked by Prometheus itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { startTestReceiver } from '../server/helpers/receiver.ts';

const RULES = resolve(import.meta.dirname, '../../deploy/prometheus/actionurl-alerts.yml');
/** Series that come from Prometheus itself and node_exporter, not from the receiver. */
const ELSEWHERE = new Set(['up', 'node_filesystem_avail_bytes']);
/** PromQL functions, operators and label names the rules use. */
const PROMQL = new Set(['sum', 'by', 'rate', 'increase', 'histogram_quantile', 'or', 'on', 'vector', 'predict_linear', 'instance', 'le']);

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}

test('every alert rule uses metrics the receiver exports and says what to do', { timeout: 60_000 }, async () => {
  const rules = (parse(readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
  assert.ok(rules.length >= 6);
  const r = await startTestReceiver();
  try {
    // One stored event and one refused request, so the labelled series exist as they do in production.
    assert.equal((await r.ingest('/actionurl/dnd_on?mac=001565aabbcc')).status, 200);
    assert.equal((await r.ingest('/actionurl/no_such_incident?mac=001565aabbcc')).status >= 400, true);
    const scrape = await r.api('/metrics');
    const exported = new Set(String(scrape.body).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => /^[a-zA-Z_:][\w:]*/.exec(l)![0]));
    for (const name of ['actionurl_commit_errors_total', 'actionurl_commit_duration_seconds_bucket']) assert.ok(exported.has(name), name);

    for (const rule of rules) {
      assert.match(rule.alert, /^Actionurl[A-Z]\w+$/);
      assert.ok(['critical', 'warning', 'info'].includes(rule.labels.severity), rule.alert);
      assert.ok(rule.annotations.summary && rule.annotations.description, rule.alert);
      const names = rule.expr
        .replace(/\{[^}]*\}/g, ' ') // label matchers
        .replace(/\[[^\]]*\]/g, ' ') // ranges
        .match(/[a-zA-Z_:][\w:]*/g)!
        .filter((t) => !PROMQL.has(t));
      assert.ok(names.length > 0, rule.alert);
      for (const name of names) assert.ok(exported.has(name) || ELSEWHERE.has(name), `${rule.alert}: ${name} is exported`);
    }
  } finally {
    await r.cleanup();
  }
});
