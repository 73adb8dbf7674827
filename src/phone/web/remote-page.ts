/**
 * The phone's "Remote control" page: who may send commands (the allowlist), whether the phone asks first,
 * the prompts waiting for an answer, and the last control requests with what came of them.
 */
import { controlDialect } from '../../core/control/index.ts';
import type { RemoteControl } from '../control/remote.ts';
import { html, type SafeHtml } from './html.ts';
import { csrfField, layout, type PageContext } from './pages.ts';

export function remoteControlPage(ctx: PageContext, control: RemoteControl, problem?: string): SafeHtml {
  const d = controlDialect(control.vendor);
  const records = [...control.records()].reverse().slice(0, 30);
  const pending = control.pendingPrompts();
  return layout('Remote control', 'remote', html`<h1>Remote control</h1>
<p>This ${d.label} phone takes commands at <code>${d.keyEndpoint.path}?${d.keyEndpoint.param}=…</code>, ${d.auth === 'passcode' ? 'with the admin password as passcode' : 'with the web admin account (HTTP Basic)'}.</p>
${problem ? html`<p class="flash error" role="alert">${problem}</p>` : ''}
${pending.length ? html`<section id="prompts"><h2>Allow remote control?</h2>${pending.map((a) => html`<form method="post" action="/remote/prompt" class="inline">${csrfField(ctx.csrf)}<input type="hidden" name="address" value="${a}">
<span>${a}</span> <button type="submit" name="allow" value="1">Allow</button><button type="submit" name="allow" value="0">Deny</button></form>`)}</section>` : ''}
<form method="post" action="/remote" id="remote-form">${csrfField(ctx.csrf)}
<p><label>Allowed addresses (${d.settings.allow}) <input name="allow" id="allow" value="${control.allow}" placeholder="any, or 10.0.0.5,10.10.*.*" spellcheck="false"></label></p>
<p><label><input type="checkbox" name="prompt" value="1" id="prompt"${control.prompt ? html` checked` : ''}> Ask "Allow remote control?" first</label></p>
<p><button type="submit" id="save-remote">Save</button></p></form>
<h2>Recent requests</h2>
${records.length === 0 ? html`<p>None yet.</p>` : html`<table class="log" id="control-log"><thead><tr><th>time</th><th>from</th><th>request</th><th>outcome</th></tr></thead><tbody>
${records.map((r) => html`<tr><td>${r.time.slice(11, 23)}</td><td>${r.from}</td><td><code>${r.request}</code></td><td>${r.outcome}${r.detail ? `: ${r.detail}` : ''}</td></tr>`)}</tbody></table>`}`, ctx);
}
