// The OTP and permissions sections, and the change history shown under every section.
import { useState } from 'preact/hooks';
import { api, attempt, html, time, useLive, useLoad } from './api.js';
import type { Say } from './main.js';
import { Sparkline } from './views-events.js';

interface Props {
  write: boolean;
  say: Say;
}
const enc = encodeURIComponent;
const KINDS = ['sent', 'verified', 'failed', 'locked'] as const;

/** OTP: counts per purpose over time; never codes or destinations. */
export function OtpView(_props: Props) {
  const live = useLive('otp');
  const { data, error } = useLoad<{
    bucketMs: number;
    purposes: { purpose: string; totals: Record<string, number>; series: Record<string, number[]> }[];
  }>('/otp', [live]);
  if (error && !data) return html`<p role="alert">${error}</p>`;
  if (!data) return html`<p class="loading">Loading OTP…</p>`;
  return html`<table><caption>Counts since this console started, per ${data.bucketMs / 1000} s</caption>
    <thead><tr><th scope="col">Purpose</th>${KINDS.map((k) => html`<th scope="col">${k}</th>`)}</tr></thead>
    <tbody>${data.purposes.map(
      (p) => html`<tr data-purpose=${p.purpose}><th scope="row">${p.purpose}</th>
      ${KINDS.map(
        (k) => html`<td><span class="count">${p.totals[k] ?? 0}</span>
        <${Sparkline} values=${p.series[k] ?? []} label=${`${p.purpose} ${k} over time`} /></td>`,
      )}</tr>`,
    )}</tbody>
  </table>
  ${data.purposes.length === 0 ? html`<p class="muted">No OTP activity seen yet.</p>` : ''}`;
}

interface Role {
  name: string;
  inherits: string[];
  rules: { effect: string; resource: string; action: string }[];
}

function field(id: string, label: string, value: string, set: (v: string) => void) {
  return html`<div><label for=${id}>${label}</label><input id=${id} value=${value}
    onInput=${(e: Event) => set((e.target as HTMLInputElement).value)} /></div>`;
}

function Explain() {
  const live = useLive('permissions');
  const [subject, setSubject] = useState('');
  const [action, setAction] = useState('');
  const [type, setType] = useState('');
  const [id, setId] = useState('');
  const [query, setQuery] = useState<string | null>(null);
  const { data, error } = useLoad<{ allowed: boolean; message: string }>(query, [live]);
  const { data: perms } = useLoad<{
    permissions: { role: string; permission: string; effect: string; via?: string[]; scope?: unknown }[];
  }>(query && subject ? `/permissions/subject?subject=${enc(subject)}` : null, [live, query]);
  const run = (e: Event) => {
    e.preventDefault();
    setQuery(
      `/permissions/explain?subject=${enc(subject)}&action=${enc(action)}&type=${enc(type)}${id ? `&id=${enc(id)}` : ''}`,
    );
  };
  return html`<form class="panel" onSubmit=${run} aria-labelledby="explain-title">
    <h3 id="explain-title">Explain a decision</h3>
    <div class="row">${field('ex-subject', 'Subject', subject, setSubject)}${field('ex-action', 'Action', action, setAction)}
      ${field('ex-type', 'Resource type', type, setType)}${field('ex-id', 'Resource id (optional)', id, setId)}
      <button type="submit" class="primary">Explain</button></div>
    ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
    ${data ? html`<p data-decision class=${data.allowed ? 'pill on' : 'pill off'}>${data.allowed ? 'allowed' : 'denied'}</p> <span data-explanation>${data.message}</span>` : ''}
    ${
      perms
        ? html`<h4>Effective permissions of ${subject}</h4><ul class="plain">${perms.permissions.map(
            (p) =>
              html`<li>${p.effect} <code>${p.permission}</code> from role ${p.role}${(p.via?.length ?? 0) > 1 ? ` (via ${p.via?.join(' → ')})` : ''}${p.scope && Object.keys(p.scope).length > 0 ? `, scope ${JSON.stringify(p.scope)}` : ', global'}</li>`,
          )}</ul>`
        : ''
    }
  </form>`;
}

function Edit({ say }: { say: Say }) {
  const [role, setRole] = useState('');
  const [permission, setPermission] = useState('');
  const [subject, setSubject] = useState('');
  const [parent, setParent] = useState('');
  const [scopeType, setScopeType] = useState('');
  const [scopeId, setScopeId] = useState('');
  const rule = (op: string) =>
    attempt(
      say,
      () => api('/permissions/rules', 'POST', { op, role, permission }),
      `${op} ${permission} on ${role}`,
    );
  const assign = (op: string) =>
    attempt(
      say,
      () =>
        api('/permissions/assignments', 'POST', {
          op,
          subject,
          role,
          resourceType: scopeType,
          resourceId: scopeId,
        }),
      `${op} ${role} to ${subject}`,
    );
  const inherit = (op: string) =>
    attempt(
      say,
      () => api('/permissions/inheritance', 'POST', { op, role, parent }),
      `${role} ${op}s ${parent}`,
    );
  return html`<section class="panel" aria-labelledby="edit-perm-title">
    <h3 id="edit-perm-title">Change roles and assignments</h3>
    <div class="row">${field('pm-role', 'Role', role, setRole)}${field('pm-permission', 'Permission (resource:action)', permission, setPermission)}
      <button type="button" onClick=${() => rule('grant')}>Grant</button><button type="button" onClick=${() => rule('deny')}>Deny</button>
      <button type="button" onClick=${() => rule('revoke')}>Revoke</button></div>
    <div class="row">${field('pm-parent', 'Parent role', parent, setParent)}
      <button type="button" onClick=${() => inherit('inherit')}>Inherit</button><button type="button" onClick=${() => inherit('disinherit')}>Disinherit</button></div>
    <div class="row">${field('pm-subject', 'Subject', subject, setSubject)}${field('pm-scope-type', 'Scope resource type', scopeType, setScopeType)}
      ${field('pm-scope-id', 'Scope resource id', scopeId, setScopeId)}
      <button type="button" onClick=${() => assign('assign')}>Assign role</button><button type="button" onClick=${() => assign('unassign')}>Unassign role</button></div>
  </section>`;
}

/** Permissions: roles with inheritance and rules; grant/revoke; assignments; explain. */
export function PermissionsView({ write, say }: Props) {
  const live = useLive('permissions');
  const { data, error } = useLoad<{ roles: Role[] }>('/permissions', [live]);
  if (error && !data) return html`<p role="alert">${error}</p>`;
  if (!data) return html`<p class="loading">Loading roles…</p>`;
  return html`<table><caption>${data.roles.length} roles</caption>
    <thead><tr><th scope="col">Role</th><th scope="col">Inherits</th><th scope="col">Rules</th></tr></thead>
    <tbody>${data.roles.map(
      (
        r,
      ) => html`<tr data-role=${r.name}><th scope="row">${r.name}</th><td>${r.inherits.join(', ') || '—'}</td>
      <td>${r.rules.map((x) => html`<span class=${x.effect === 'deny' ? 'pill off' : 'pill on'}>${x.effect} ${x.resource}:${x.action}</span> `)}</td></tr>`,
    )}</tbody>
  </table>
  ${write ? html`<${Edit} say=${say} />` : ''}
  <${Explain} />`;
}

/** The change history of a section: who changed what, when, before and after. */
export function HistoryView({ section }: { section: string }) {
  const live = useLive('history');
  const { data } = useLoad<{
    records: {
      id: string;
      at: number;
      subject: string;
      action: string;
      target: string;
      before?: unknown;
      after?: unknown;
    }[];
  }>(`/history?section=${enc(section)}`, [live]);
  if (!data) return '';
  return html`<details class="panel" open=${data.records.length > 0}><summary>Change history (${data.records.length})</summary>
    <table><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
    <tbody>${data.records.map(
      (
        r,
      ) => html`<tr data-change=${r.id}><td>${time(r.at)}</td><td>${r.subject}</td><td>${r.action} <code>${r.target}</code></td>
      <td><code class="clip">${r.before === undefined ? '' : JSON.stringify(r.before)}</code></td><td><code class="clip">${r.after === undefined ? '' : JSON.stringify(r.after)}</code></td></tr>`,
    )}</tbody></table>
  </details>`;
}
