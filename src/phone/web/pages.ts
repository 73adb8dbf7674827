/**
 * The phone's web pages, rendered on the server with every value escaped (see html.ts). Pages work without
 * script; phone.js only refreshes the panel and lints URLs as they are typed.
 */
import { INCIDENTS } from '../../core/catalog.ts';
import { formatMac } from '../../core/mac.ts';
import { getVendorCodec, VENDOR_IDS, type ActionUrlConfig } from '../../core/vendors/index.ts';
import type { Delivery } from '../sender/index.ts';
import type { FiredRecord, Phone } from '../phone.ts';
import type { UrlProblem } from '../settings/action-url.ts';
import { html, type SafeHtml } from './html.ts';

export interface PageContext {
  phone: Phone;
  csrf: string;
  flash?: { kind: 'ok' | 'error'; text: string };
}

const NAV: [string, string][] = [['/panel', 'Panel'], ['/actionurl', 'Phone → Action URL'], ['/log', 'Delivery log'], ['/remote', 'Remote control'], ['/password', 'Password']];

export function layout(title: string, page: string, body: SafeHtml, ctx?: PageContext): SafeHtml {
  const id = ctx ? `${ctx.phone.identity.model} ${formatMac(ctx.phone.mac)}` : '';
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${id || 'virtual phone'}</title>
<link rel="stylesheet" href="/static/phone.css"><script src="/static/phone.js" defer></script></head>
<body data-page="${page}">
<header><span class="brand">actionurl virtual phone</span> <span class="ident">${id}</span>
${ctx ? html`<nav>${NAV.map(([href, label]) => html`<a href="${href}"${page === href.slice(1) ? html` aria-current="page"` : ''}>${label}</a>`)}
<form method="post" action="/logout" class="inline">${csrfField(ctx.csrf)}<button type="submit">Log out</button></form></nav>` : ''}
</header>
<main>${ctx?.flash ? html`<p class="flash ${ctx.flash.kind}" role="status">${ctx.flash.text}</p>` : ''}${body}</main>
</body></html>`;
}

export const csrfField = (token: string) => html`<input type="hidden" name="csrf" value="${token}">`;

/** The login form, with the reason the last attempt failed, if any. */
export function loginPage(problem?: string): SafeHtml {
  return layout('Log in', 'login', html`<h1>Log in</h1>
${problem ? html`<p class="flash error" role="alert">${problem}</p>` : ''}
<form method="post" action="/login" class="login">
<label>User name <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button></form>`);
}

export interface ActionUrlView {
  /** What the form shows: the saved settings, or what was submitted when saving was refused. */
  config: ActionUrlConfig;
  errors: UrlProblem[];
  warnings: UrlProblem[];
  /** Reasons an uploaded file was refused. */
  uploadProblems?: { error: string; problems: string[] };
}

export function actionUrlPage(ctx: PageContext, view: ActionUrlView): SafeHtml {
  const bySlug = (list: UrlProblem[], slug: string) => list.filter((p) => p.slug === slug);
  const rows = INCIDENTS.map((i) => {
    const problems = [...bySlug(view.errors, i.slug), ...bySlug(view.warnings, i.slug)];
    return html`<tr data-slug="${i.slug}"${problems.some((p) => p.severity === 'error') ? html` class="has-error"` : ''}>
<th scope="row"><label for="url-${i.slug}">${i.name}</label><span class="slug">${i.slug}</span></th>
<td><input id="url-${i.slug}" name="url.${i.slug}" value="${view.config.urls[i.slug] ?? ''}" spellcheck="false" autocomplete="off">
<ul class="lint">${problems.map((p) => html`<li class="${p.severity}">${p.severity}: ${p.message}${p.fix ? html` <span class="fix">(${p.fix})</span>` : ''}</li>`)}</ul></td></tr>`;
  });
  const vendorOptions = VENDOR_IDS.map((v) => html`<option value="${v}">${getVendorCodec(v).label}</option>`);
  return layout('Phone → Action URL', 'actionurl', html`<h1>Phone → Action URL</h1>
${view.errors.length ? html`<div class="flash error" role="alert" id="save-errors"><p>Not saved: ${view.errors.length} URL${view.errors.length > 1 ? 's have errors' : ' has an error'}.</p>
<ul>${view.errors.map((e) => html`<li>${e.slug}: ${e.message}</li>`)}</ul></div>` : ''}
<form method="post" action="/actionurl" id="actionurl-form">${csrfField(ctx.csrf)}
<p><label>Active <select name="active" id="active">
<option value="1"${view.config.enabled ? html` selected` : ''}>Enabled</option>
<option value="0"${view.config.enabled ? '' : html` selected`}>Disabled</option></select></label></p>
<table class="urls"><thead><tr><th>Incident</th><th>URL</th></tr></thead><tbody>${rows}</tbody></table>
<p><button type="submit" id="save">Save</button></p></form>
<section class="files"><h2>Config file</h2>
<form method="get" action="/config/download" class="inline"><label>Vendor <select name="vendor" id="download-vendor">${vendorOptions}</select></label>
<button type="submit" id="download">Download</button></form>
<form method="post" action="/config/upload" enctype="multipart/form-data" class="inline">${csrfField(ctx.csrf)}
<label>Vendor <select name="vendor" id="upload-vendor"><option value="">recognise from the file</option>${vendorOptions}</select></label>
<input type="file" name="file" id="upload-file" required> <button type="submit" id="upload">Upload</button></form>
${view.uploadProblems ? html`<div class="flash error" role="alert" id="upload-errors"><p>File refused: ${view.uploadProblems.error}</p>
<ul>${view.uploadProblems.problems.map((p) => html`<li>${p}</li>`)}</ul></div>` : ''}
</section>`, ctx);
}

/** The part of the panel phone.js refreshes. */
export function panelLive(phone: Phone): SafeHtml {
  const s = phone.state;
  const onOff = (on: boolean) => (on ? 'on' : 'off');
  const fwd = (k: 'always' | 'busy' | 'no_answer') => (s.forward[k].on ? `on → ${s.forward[k].target}` : 'off');
  const recent = phone.firedLog().slice(-15).reverse();
  return html`<table class="status"><tbody>
<tr><th>Power</th><td id="st-booted">${s.booted ? 'booted' : 'off (press Boot)'}</td></tr>
<tr><th>IP</th><td>${s.device.ip}</td></tr>
${s.accounts.map((a) => html`<tr><th>Account ${a.user}@${a.host}</th><td class="account">${a.displayName} · ${a.registered ? 'registered' : 'not registered'}</td></tr>`)}
<tr><th>Phone</th><td id="st-busy">${s.busy ? 'busy' : 'idle'}, handset ${s.handset === 'off' ? 'off hook' : 'on hook'}</td></tr>
<tr><th>DND</th><td id="st-dnd">${onOff(s.dnd)}</td></tr>
<tr><th>Forward</th><td>always ${fwd('always')}; busy ${fwd('busy')}; no answer ${fwd('no_answer')}</td></tr>
<tr><th>Action URL</th><td>${phone.config.enabled ? 'enabled' : 'disabled'}, ${Object.keys(phone.config.urls).length} URLs, ${phone.mode} mode</td></tr>
</tbody></table>
<h2>Calls</h2>
${s.calls.length === 0 ? html`<p id="no-calls">No calls.</p>` : html`<table class="calls" id="calls"><thead><tr><th>call id</th><th>direction</th><th>remote</th><th>display name</th><th>state</th></tr></thead><tbody>
${s.calls.map((c) => html`<tr><td>${c.id}</td><td>${c.direction}</td><td>sip:${c.remoteUser}@${c.remoteHost}</td><td class="display-remote">${c.remoteName}</td><td>${c.phase}${c.muted ? ', muted' : ''}</td></tr>`)}
</tbody></table>`}
<h2>Recent incidents</h2>
${recent.length === 0 ? html`<p>None yet.</p>` : html`<table class="fired"><thead><tr><th>time</th><th>incident</th><th>request</th></tr></thead><tbody>
${recent.map((f) => html`<tr><td>${f.time.slice(11, 23)}</td><td>${f.slug}</td><td>${firedText(f)}</td></tr>`)}</tbody></table>`}`;
}

function firedText(f: FiredRecord): SafeHtml {
  if (f.url !== undefined) return html`<code>${f.url}</code>`;
  return html`<span class="muted">${f.skipped === 'disabled' ? 'not sent: Action URL disabled' : 'not sent: no URL for this incident'}</span>`;
}

function actionForm(csrf: string, name: string, inner: SafeHtml, label?: string): SafeHtml {
  return html`<form method="post" action="/panel/action" class="action">${csrfField(csrf)}<input type="hidden" name="do" value="${name}">${inner}${label ? html`<button type="submit" data-do="${name}">${label}</button>` : ''}</form>`;
}

export function panelPage(ctx: PageContext): SafeHtml {
  const c = ctx.csrf;
  const simple = (name: string, label: string) => actionForm(c, name, html``, label);
  const pair = (name: string, field: string, on: string, off: string) => actionForm(c, name, html`
<button type="submit" name="${field}" value="true" data-do="${name}-on">${on}</button><button type="submit" name="${field}" value="false" data-do="${name}-off">${off}</button>`);
  return layout('Panel', 'panel', html`<h1>Panel</h1>
<section id="live" aria-live="polite">${panelLive(ctx.phone)}</section>
<h2>Do something</h2>
<div class="actions">
<fieldset><legend>Phone</legend>${simple('boot', 'Boot')}${simple('register', 'Register')}${simple('register_fail', 'Registration fails')}${simple('unregister', 'Unregister')}
${actionForm(c, 'ip', html`<input name="address" placeholder="10.0.0.77" required aria-label="new IP address">`, 'Change IP')}</fieldset>
<fieldset><legend>Handset and keys</legend>${simple('offhook', 'Off hook')}${simple('onhook', 'On hook')}${simple('answer', 'Answer (speaker)')}${simple('reject', 'Reject')}${simple('hangup', 'Hang up')}
${simple('hold', 'Hold')}${simple('unhold', 'Resume')}${simple('mute', 'Mute')}${simple('unmute', 'Unmute')}
${actionForm(c, 'dial', html`<input name="number" placeholder="2002" required aria-label="number to dial">`, 'Dial')}</fieldset>
<fieldset><legend>The far end</legend>
${actionForm(c, 'incoming', html`<input name="from" placeholder="sip:3001@10.0.0.9" required aria-label="caller"><input name="name" placeholder="display name" aria-label="caller display name" id="incoming-name">`, 'Incoming call')}
${simple('remote_answer', 'Far end answers')}${simple('remote_busy', 'Far end busy')}${simple('remote_cancel', 'Caller gives up')}${simple('remote_hangup', 'Far end hangs up')}</fieldset>
<fieldset><legend>Features</legend>${pair('dnd', 'on', 'DND on', 'DND off')}
${actionForm(c, 'forward', html`<select name="kind" aria-label="forward kind"><option value="always">always</option><option value="busy">busy</option><option value="no_answer">no answer</option></select>
<input name="target" placeholder="5000" aria-label="forward target"><button type="submit" name="on" value="true">Forward on</button><button type="submit" name="on" value="false">Forward off</button>`)}
${actionForm(c, 'transfer', html`<select name="mode" aria-label="transfer mode"><option value="blind">blind</option><option value="attended">attended</option></select><input name="target" placeholder="4001" aria-label="transfer target">`, 'Transfer')}
${pair('transfer_result', 'ok', 'Transfer succeeds', 'Transfer fails')}</fieldset>
</div>`, ctx);
}

export function logPage(ctx: PageContext): SafeHtml {
  const rows = [...ctx.phone.deliveries()].reverse();
  return layout('Delivery log', 'log', html`<h1>Delivery log</h1>
<p>${rows.length} request${rows.length === 1 ? '' : 's'} (newest first). The phone ignores the answer, as firmware does.</p>
<table class="log" id="deliveries"><thead><tr><th>#</th><th>time</th><th>incident</th><th>URL</th><th>status</th><th>latency</th><th>error</th></tr></thead><tbody>
${rows.map((d: Delivery) => html`<tr><td>${d.seq}</td><td>${d.time}</td><td>${d.incident}</td><td><code>${d.url}</code></td><td>${d.status ?? '–'}</td><td>${d.latencyMs.toFixed(1)} ms</td><td>${d.error ?? ''}${d.attempts > 1 ? ` (${d.attempts} attempts)` : ''}</td></tr>`)}
</tbody></table>`, ctx);
}

export function passwordPage(ctx: PageContext, problem?: string): SafeHtml {
  return layout('Password', 'password', html`<h1>Change the admin password</h1>
${problem ? html`<p class="flash error" role="alert">${problem}</p>` : ''}
<form method="post" action="/password" class="login">${csrfField(ctx.csrf)}
<label>Current password <input name="current" type="password" autocomplete="current-password" required></label>
<label>New password <input name="next" type="password" autocomplete="new-password" required minlength="4"></label>
<label>New password again <input name="again" type="password" autocomplete="new-password" required></label>
<button type="submit">Change</button></form>`, ctx);
}
