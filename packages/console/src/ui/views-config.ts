// The flags and config sections.
import { useState } from 'preact/hooks';
import { api, attempt, html, useLive, useLoad } from './api.js';
import type { Say } from './main.js';

interface Condition {
  attribute: string;
  operator: string;
  values?: unknown[];
  value?: unknown;
}
interface Rule {
  name?: string;
  conditions: Condition[];
  serve?: boolean;
  rollout?: number;
  variant?: string;
}
interface Definition {
  enabled: boolean;
  description?: string;
  rollout?: number;
  rules?: Rule[];
  variants?: { name: string; weight: number }[];
  overrides?: Record<string, unknown>;
}
interface FlagRow {
  name: string;
  definition: Definition | null;
  evaluations: Record<string, number> | null;
}

/** The share of recent evaluations per variant, as bars. */
function Shares({ flag, counts }: { flag: string; counts: Record<string, number> }) {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return html`<span class="muted">none yet</span>`;
  return html`<ul class="plain shares" aria-label=${`Recent evaluations of ${flag}`}>${entries.map(
    ([
      name,
      n,
    ]) => html`<li><svg width="60" height="8" aria-hidden="true"><rect width="60" height="8" class="track" />
      <rect width=${Math.max(1, Math.round((60 * n) / total))} height="8" /></svg> ${name} ${Math.round((100 * n) / total)}% (${n})</li>`,
  )}</ul>`;
}
interface Props {
  write: boolean;
  say: Say;
}

const enc = encodeURIComponent;
const NOT_JSON = Symbol('not JSON');

/** Parses what the operator typed; says so and returns NOT_JSON when it is not JSON. */
function parseTyped(text: string, what: string, say: Say): unknown {
  try {
    return JSON.parse(text);
  } catch {
    say(`${what} is not valid JSON`, true);
    return NOT_JSON;
  }
}

function describeRule(rule: Rule): string {
  const when = rule.conditions
    .map((c) => `${c.attribute} ${c.operator} ${JSON.stringify(c.values ?? c.value ?? '')}`)
    .join(' and ');
  const then = rule.variant ? `variant ${rule.variant}` : rule.serve === false ? 'off' : 'on';
  const share = rule.rollout !== undefined && rule.rollout !== 100 ? ` (${rule.rollout}%)` : '';
  return `${rule.name ? `${rule.name}: ` : ''}${when || 'always'} → ${then}${share}`;
}

function FlagRowView({
  flag,
  write,
  say,
  onEdit,
  counted,
}: {
  flag: FlagRow;
  write: boolean;
  say: Say;
  onEdit(): void;
  counted: boolean;
}) {
  const d = flag.definition;
  const [rollout, setRollout] = useState(String(d?.rollout ?? 100));
  if (!d)
    return html`<tr><th scope="row">${flag.name}</th><td colspan=${counted ? 6 : 5}>invalid definition</td></tr>`;
  const id = `rollout-${flag.name}`;
  return html`<tr data-flag=${flag.name}>
    <th scope="row"><code>${flag.name}</code>${d.description ? html`<div class="muted">${d.description}</div>` : ''}</th>
    <td><span class=${d.enabled ? 'pill on' : 'pill off'} data-state>${d.enabled ? 'on' : 'off'}</span>
      ${
        write
          ? html` <button type="button" onClick=${() =>
              attempt(
                say,
                () => api(`/flags/${enc(flag.name)}/toggle`, 'POST', {}),
                `${flag.name} ${d.enabled ? 'disabled' : 'enabled'}`,
              )}>
            ${d.enabled ? 'Disable' : 'Enable'}<span class="sr"> ${flag.name}</span></button>`
          : ''
      }</td>
    <td>${
      write
        ? html`<label class="sr" for=${id}>Rollout of ${flag.name} (percent)</label>
        <input id=${id} class="narrow" type="number" min="0" max="100" value=${rollout}
          onInput=${(e: Event) => setRollout((e.target as HTMLInputElement).value)} />
        <button type="button" onClick=${() =>
          attempt(
            say,
            () => api(`/flags/${enc(flag.name)}/rollout`, 'POST', { rollout: Number(rollout) }),
            `${flag.name} rollout set`,
          )}>
          Set<span class="sr"> rollout of ${flag.name}</span></button>`
        : `${d.rollout ?? 100}%`
    }</td>
    <td>${d.rules?.length ? html`<ul class="plain">${d.rules.map((r) => html`<li>${describeRule(r)}</li>`)}</ul>` : html`<span class="muted">none</span>`}</td>
    <td>${d.variants?.length ? d.variants.map((v) => `${v.name} (${v.weight})`).join(', ') : html`<span class="muted">none</span>`}</td>
    ${counted ? html`<td><${Shares} flag=${flag.name} counts=${flag.evaluations ?? {}} /></td>` : ''}
    <td>${write ? html`<button type="button" onClick=${onEdit}>Edit<span class="sr"> ${flag.name}</span></button>` : ''}</td>
  </tr>`;
}

function FlagEditor({
  name,
  definition,
  say,
  done,
}: {
  name: string;
  definition: Definition | null;
  say: Say;
  done(): void;
}) {
  const [text, setText] = useState(JSON.stringify(definition ?? { enabled: false }, null, 2));
  const [flagName, setFlagName] = useState(name);
  const save = async () => {
    const parsed = parseTyped(text, 'The definition', say);
    if (parsed === NOT_JSON) return;
    await attempt(
      say,
      () => api(`/flags/${enc(flagName)}`, 'PUT', { definition: parsed }),
      `${flagName} saved`,
    );
  };
  return html`<section class="panel" aria-labelledby="edit-title">
    <h3 id="edit-title">${name ? `Edit ${name}` : 'New flag'}</h3>
    ${
      name
        ? ''
        : html`<label for="flag-name">Flag name</label><input id="flag-name" value=${flagName}
      onInput=${(e: Event) => setFlagName((e.target as HTMLInputElement).value)} />`
    }
    <label for="flag-json">Definition (JSON: enabled, rollout, rules, variants, overrides)</label>
    <textarea id="flag-json" rows="12" value=${text} onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}></textarea>
    <div class="row"><button type="button" class="primary" onClick=${save}>Save definition</button>
    <button type="button" onClick=${done}>Close editor</button></div>
  </section>`;
}

function Evaluate({ names }: { names: string[] }) {
  const [flag, setFlag] = useState(names[0] ?? '');
  const [context, setContext] = useState('{"userId": "u-1"}');
  const [result, setResult] = useState<unknown>(null);
  const [error, setError] = useState('');
  const run = async (e: Event) => {
    e.preventDefault();
    try {
      setError('');
      setResult(await api(`/flags/${enc(flag)}/evaluate?context=${enc(context)}`));
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return html`<form class="panel" onSubmit=${run} aria-labelledby="eval-title">
    <h3 id="eval-title">Evaluate for a context</h3>
    <div class="row">
      <div><label for="eval-flag">Flag</label>
        <select id="eval-flag" value=${flag} onChange=${(e: Event) => setFlag((e.target as HTMLSelectElement).value)}>
          ${names.map((n) => html`<option value=${n}>${n}</option>`)}</select></div>
      <div class="grow"><label for="eval-context">Context (JSON)</label>
        <input id="eval-context" value=${context} onInput=${(e: Event) => setContext((e.target as HTMLInputElement).value)} /></div>
      <button type="submit" class="primary">Evaluate</button>
    </div>
    ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
    ${result ? html`<pre class="result" data-evaluation>${JSON.stringify(result, null, 2)}</pre>` : ''}
  </form>`;
}

/** Flags: state, rollout, rules, variants; toggle, rollout, edit; evaluate with the reason. */
export function FlagsView({ write, say }: Props) {
  const live = useLive('flags');
  const { data, error } = useLoad<{ flags: FlagRow[]; writable: boolean }>('/flags', [live]);
  const [editing, setEditing] = useState<string | null>(null);
  if (error && !data) return html`<p role="alert">${error}</p>`;
  if (!data) return html`<p class="loading">Loading flags…</p>`;
  const canWrite = write && data.writable;
  const editingFlag = data.flags.find((f) => f.name === editing);
  const counted = data.flags.some((f) => f.evaluations !== null);
  return html`
    ${canWrite ? html`<button type="button" onClick=${() => setEditing('')}>New flag</button>` : ''}
    ${editing !== null ? html`<${FlagEditor} key=${editing} name=${editing} definition=${editingFlag?.definition ?? null} say=${say} done=${() => setEditing(null)} />` : ''}
    <table>
      <caption>${data.flags.length} flags</caption>
      <thead><tr><th scope="col">Flag</th><th scope="col">State</th><th scope="col">Rollout</th>
        <th scope="col">Targeting rules</th><th scope="col">Variants</th>
        ${counted ? html`<th scope="col">Recent evaluations (5 min)</th>` : ''}<th scope="col"><span class="sr">Actions</span></th></tr></thead>
      <tbody>${data.flags.map((f) => html`<${FlagRowView} key=${`${f.name}:${JSON.stringify(f.definition)}:${JSON.stringify(f.evaluations)}`} flag=${f} write=${canWrite} say=${say} counted=${counted} onEdit=${() => setEditing(f.name)} />`)}</tbody>
    </table>
    <${Evaluate} names=${data.flags.map((f) => f.name)} />`;
}

interface ConfigEntry {
  key: string;
  value: unknown;
  version: number;
  hidden: boolean;
}

function ConfigRow({ entry, write, say }: { entry: ConfigEntry; write: boolean; say: Say }) {
  const [text, setText] = useState(JSON.stringify(entry.value));
  const id = `value-${entry.key}`;
  const save = async () => {
    const value = parseTyped(text, `The value of ${entry.key}`, say);
    if (value === NOT_JSON) return;
    await attempt(say, () => api(`/config/${enc(entry.key)}`, 'PUT', { value }), `${entry.key} saved`);
  };
  return html`<tr data-key=${entry.key}>
    <th scope="row"><code>${entry.key}</code></th>
    <td>${
      write && !entry.hidden
        ? html`<label class="sr" for=${id}>Value of ${entry.key} (JSON)</label>
        <input id=${id} class="wide" value=${text} onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)} />`
        : html`<code>${JSON.stringify(entry.value)}</code>`
    }</td>
    <td>${entry.version}</td>
    <td>${
      write && !entry.hidden
        ? html`<button type="button" onClick=${save}>Save<span class="sr"> ${entry.key}</span></button>
        <button type="button" onClick=${() => attempt(say, () => api(`/config/${enc(entry.key)}`, 'DELETE'), `${entry.key} deleted`)}>
        Delete<span class="sr"> ${entry.key}</span></button>`
        : ''
    }</td>
  </tr>`;
}

/** Config: keys by prefix with value and version; edit (schema-validated by the service), delete; live. */
export function ConfigView({ write, say }: Props) {
  const live = useLive('config');
  const [prefix, setPrefix] = useState('');
  const [typed, setTyped] = useState('');
  const [newKey, setNewKey] = useState('');
  const [newValue, setNewValue] = useState('');
  const { data, error } = useLoad<{ prefixes: string[]; prefix: string; entries: ConfigEntry[] }>(
    `/config${prefix ? `?prefix=${enc(prefix)}` : ''}`,
    [live],
  );
  if (error && !data) return html`<p role="alert">${error}</p>`;
  if (!data) return html`<p class="loading">Loading config…</p>`;
  const add = async (e: Event) => {
    e.preventDefault();
    const value = parseTyped(newValue, 'The value', say);
    if (value === NOT_JSON) return;
    await attempt(say, () => api(`/config/${enc(newKey)}`, 'PUT', { value }), `${newKey} saved`);
  };
  return html`
    <form class="row" onSubmit=${(e: Event) => {
      e.preventDefault();
      setPrefix(typed);
    }}>
      <div><label for="prefix-pick">Prefix</label>
      <select id="prefix-pick" value=${data.prefix} onChange=${(e: Event) => setPrefix((e.target as HTMLSelectElement).value)}>
        ${[...new Set([...data.prefixes, data.prefix])].map((p) => html`<option value=${p}>${p}</option>`)}</select></div>
      <div><label for="prefix-typed">Other prefix</label><input id="prefix-typed" value=${typed}
        onInput=${(e: Event) => setTyped((e.target as HTMLInputElement).value)} /></div>
      <button type="submit">Show</button>
    </form>
    <table>
      <caption>${data.entries.length} keys under <code>${data.prefix}</code></caption>
      <thead><tr><th scope="col">Key</th><th scope="col">Value</th><th scope="col">Version</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
      <tbody>${data.entries.map((entry) => html`<${ConfigRow} key=${`${entry.key}:${entry.version}`} entry=${entry} write=${write} say=${say} />`)}</tbody>
    </table>
    ${
      write
        ? html`<form class="panel row" onSubmit=${add} aria-label="Set a key">
        <div><label for="new-key">Key</label><input id="new-key" value=${newKey} onInput=${(e: Event) => setNewKey((e.target as HTMLInputElement).value)} /></div>
        <div class="grow"><label for="new-value">Value (JSON)</label><input id="new-value" value=${newValue} onInput=${(e: Event) => setNewValue((e.target as HTMLInputElement).value)} /></div>
        <button type="submit" class="primary">Set key</button></form>`
        : ''
    }`;
}
