// The events and delivery sections.
import { useState } from 'preact/hooks';
import type { SendRow } from '../sections/delivery.js';
import { api, attempt, html, time, useLive, useLoad } from './api.js';
import type { Say } from './main.js';

interface Props {
  write: boolean;
  say: Say;
}
const enc = encodeURIComponent;

/** A bar sparkline as inline SVG, labelled with its total for screen readers. */
export function Sparkline({ values, label }: { values: number[]; label: string }) {
  const max = Math.max(1, ...values);
  const total = values.reduce((a, b) => a + b, 0);
  const width = values.length * 4;
  return html`<svg class="spark" width=${width} height="24" viewBox=${`0 0 ${width} 24`} role="img" aria-label=${`${label}: ${total}`}>
    ${values.map((v, i) => html`<rect x=${i * 4} y=${24 - (v / max) * 24} width="3" height=${(v / max) * 24} />`)}
  </svg>`;
}

interface EventName {
  name: string;
  length: number | null;
  rate: number[];
  groups: { name: string; pending: number; lag?: number | null }[] | null;
}
interface Overview {
  bucketMs: number;
  capabilities: { streamLength: boolean; groups: boolean; deleteDeadLetters: boolean };
  subscriptions: string[];
  names: EventName[];
}
interface StoredEvent {
  id: string;
  name: string;
  timestamp: number;
  data: unknown;
}
interface DeadLetter extends StoredEvent {
  deadLetterId: string;
  error: { name: string; message: string };
  attempts: number;
  failedAt: number;
}

function History() {
  const [name, setName] = useState('');
  const [query, setQuery] = useState<string | null>(null);
  const { data, error } = useLoad<{ events: StoredEvent[] }>(
    query === null ? null : `/events/history?name=${enc(query)}&limit=50`,
    [],
  );
  return html`<section class="panel" aria-labelledby="history-title">
    <h3 id="history-title">Browse history</h3>
    <form class="row" onSubmit=${(e: Event) => {
      e.preventDefault();
      setQuery(name);
    }}>
      <div class="grow"><label for="history-name">Event name or pattern (with *)</label>
      <input id="history-name" value=${name} onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} /></div>
      <button type="submit">Browse</button>
    </form>
    ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
    ${
      data
        ? html`<table><caption>${data.events.length} events</caption>
      <thead><tr><th scope="col">Time</th><th scope="col">Name</th><th scope="col">Data</th></tr></thead>
      <tbody>${data.events.map((e) => html`<tr><td>${time(e.timestamp)}</td><td><code>${e.name}</code></td><td><code class="clip">${JSON.stringify(e.data)}</code></td></tr>`)}</tbody></table>`
        : ''
    }
  </section>`;
}

function DeadLetters({
  subscriptions,
  write,
  canDelete,
  say,
}: {
  subscriptions: string[];
  write: boolean;
  canDelete: boolean;
  say: Say;
}) {
  const live = useLive('events');
  const [subscription, setSubscription] = useState(subscriptions[0] ?? '');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [open, setOpen] = useState<string | null>(null);
  const { data, error } = useLoad<{ deadLetters: DeadLetter[] }>(
    subscription ? `/events/dead-letters?subscription=${enc(subscription)}` : null,
    [live],
  );
  if (!subscription) return html`<p class="muted">No subscriptions configured for dead letters.</p>`;
  const act = (op: 'replay' | 'delete', ids?: string[]) =>
    attempt(
      say,
      async () => {
        await api(`/events/dead-letters/${op}`, 'POST', { subscription, ...(ids ? { ids } : {}) });
        setSelected(new Set());
      },
      `${op === 'replay' ? 'Replayed' : 'Deleted'} ${ids ? ids.length : 'all'} dead letter(s) of ${subscription}`,
    );
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const letters = data?.deadLetters ?? [];
  return html`<section class="panel" aria-labelledby="dl-title">
    <h3 id="dl-title">Dead letters</h3>
    <div class="row">
      <div><label for="dl-sub">Subscription</label>
      <select id="dl-sub" value=${subscription} onChange=${(e: Event) => setSubscription((e.target as HTMLSelectElement).value)}>
        ${subscriptions.map((s) => html`<option value=${s}>${s}</option>`)}</select></div>
      ${
        write
          ? html`<button type="button" disabled=${selected.size === 0} onClick=${() => act('replay', [...selected])}>Replay selected</button>
        <button type="button" disabled=${letters.length === 0} onClick=${() => act('replay')}>Replay all</button>
        ${canDelete ? html`<button type="button" disabled=${selected.size === 0} onClick=${() => act('delete', [...selected])}>Delete selected</button>` : ''}`
          : ''
      }
    </div>
    ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
    <table><caption>${letters.length} dead letters of ${subscription}</caption>
      <thead><tr>${write ? html`<th scope="col"><span class="sr">Select</span></th>` : ''}<th scope="col">Event</th><th scope="col">Error</th>
        <th scope="col">Attempts</th><th scope="col">Failed at</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
      <tbody>${letters.map(
        (d) => html`<tr data-dead-letter=${d.deadLetterId}>
        ${
          write
            ? html`<td><input type="checkbox" id=${`dl-${d.deadLetterId}`} checked=${selected.has(d.deadLetterId)} onChange=${() => toggle(d.deadLetterId)} />
          <label class="sr" for=${`dl-${d.deadLetterId}`}>Select ${d.name} ${d.deadLetterId}</label></td>`
            : ''
        }
        <td><code>${d.name}</code></td><td>${d.error.name}: ${d.error.message}</td><td>${d.attempts}</td><td>${time(d.failedAt)}</td>
        <td><button type="button" aria-expanded=${open === d.deadLetterId} onClick=${() => setOpen(open === d.deadLetterId ? null : d.deadLetterId)}>Inspect</button>
          ${write ? html` <button type="button" onClick=${() => act('replay', [d.deadLetterId])}>Replay<span class="sr"> ${d.deadLetterId}</span></button>` : ''}
          ${write && canDelete ? html` <button type="button" onClick=${() => act('delete', [d.deadLetterId])}>Delete<span class="sr"> ${d.deadLetterId}</span></button>` : ''}
          ${open === d.deadLetterId ? html`<pre class="result">${JSON.stringify({ id: d.id, data: d.data }, null, 2)}</pre>` : ''}</td>
      </tr>`,
      )}</tbody></table>
  </section>`;
}

/** Events: names, stream length, publish rate, groups; history; dead letters. */
export function EventsView({ write, say }: Props) {
  const live = useLive('events');
  const { data, error } = useLoad<Overview>('/events', [live]);
  if (error && !data) return html`<p role="alert">${error}</p>`;
  if (!data) return html`<p class="loading">Loading events…</p>`;
  const na = html`<span class="muted">n/a</span>`;
  return html`
    <table><caption>${data.names.length} event names · rate per ${data.bucketMs / 1000} s over 5 min</caption>
      <thead><tr><th scope="col">Event</th><th scope="col">Stream length</th><th scope="col">Publish rate</th><th scope="col">Consumer groups (pending / lag)</th></tr></thead>
      <tbody>${data.names.map(
        (n) => html`<tr data-event=${n.name}>
        <th scope="row"><code>${n.name}</code></th>
        <td>${n.length ?? na}</td>
        <td><${Sparkline} values=${n.rate} label=${`${n.name} published in the last 5 minutes`} /></td>
        <td>${n.groups ? n.groups.map((g) => html`<div>${g.name}: ${g.pending} / ${g.lag ?? '?'}</div>`) : na}</td>
      </tr>`,
      )}</tbody></table>
    <${DeadLetters} subscriptions=${data.subscriptions} write=${write} canDelete=${data.capabilities.deleteDeadLetters} say=${say} />
    <${History} />`;
}

interface Channel {
  channel: string;
  providers: string[];
  chain: string[] | null;
  primary: string | null;
}
type Send = SendRow;

/** Delivery: recent sends, the provider chain and the provider switch. */
export function DeliveryView({ write, say }: Props) {
  const live = useLive('delivery');
  const { data, error } = useLoad<{ switchable: boolean; channels: Channel[]; recent: Send[] }>('/delivery', [
    live,
  ]);
  if (error && !data) return html`<p role="alert">${error}</p>`;
  if (!data) return html`<p class="loading">Loading delivery…</p>`;
  return html`
    <div class="cards">${data.channels.map(
      (c) => html`<section class="panel" aria-labelledby=${`ch-${c.channel}`} data-channel=${c.channel}>
      <h3 id=${`ch-${c.channel}`}>${c.channel === 'sms' ? 'SMS' : 'Email'}</h3>
      <p>Current provider: <strong data-primary>${c.primary ?? c.chain?.[0] ?? 'default'}</strong></p>
      <p>Chain: ${c.chain ? c.chain.join(' → ') : 'n/a'}</p>
      ${
        write && data.switchable
          ? html`<div class="row">${c.providers.map(
              (p) => html`<button type="button"
        class=${p === (c.primary ?? c.chain?.[0]) ? 'primary' : ''} aria-pressed=${p === (c.primary ?? c.chain?.[0])}
        onClick=${() => attempt(say, () => api(`/delivery/${c.channel}/provider`, 'POST', { provider: p }), `${c.channel} provider switched to ${p}`)}>
        Use ${p}</button>`,
            )}</div>`
          : ''
      }
    </section>`,
    )}</div>
    <table><caption>${data.recent.length} recent sends (recipients and content are never shown)</caption>
      <thead><tr><th scope="col">Time</th><th scope="col">Channel</th><th scope="col">Message</th><th scope="col">Provider</th>
        <th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Failovers</th><th scope="col">Reason</th></tr></thead>
      <tbody>${data.recent.map(
        (s) => html`<tr><td>${time(s.updatedAt)}</td><td>${s.channel}</td><td><code>${s.messageId}</code></td>
        <td>${s.provider ?? '—'}</td><td>${s.status}</td><td>${s.attempts ?? '—'}</td><td>${s.failovers ?? '—'}</td><td>${s.reason ?? ''}</td></tr>`,
      )}</tbody>
    </table>`;
}
