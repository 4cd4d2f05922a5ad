// The console page: session, section tabs, live stream, and the section views.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, connectLive, html, setCsrfToken } from './api.js';
import { HistoryView, OtpView, PermissionsView } from './views-access.js';
import { ConfigView, FlagsView } from './views-config.js';
import { DeliveryView, EventsView } from './views-events.js';

interface SectionRights {
  name: string;
  read: boolean;
  write: boolean;
}
interface Session {
  subject: string;
  title: string;
  sections: SectionRights[];
  csrfToken: string;
}

const LABELS: Record<string, string> = {
  flags: 'Flags',
  config: 'Config',
  events: 'Events',
  delivery: 'Delivery',
  otp: 'OTP',
  permissions: 'Permissions',
};
const VIEWS: Record<string, (props: { write: boolean; say: Say }) => unknown> = {
  flags: FlagsView,
  config: ConfigView,
  events: EventsView,
  delivery: DeliveryView,
  otp: OtpView,
  permissions: PermissionsView,
};
export type Say = (message: string, error?: boolean) => void;

function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [failure, setFailure] = useState('');
  const [current, setCurrent] = useState(location.hash.slice(1));
  const [status, setStatus] = useState<{ message: string; error: boolean }>({ message: '', error: false });
  useEffect(() => {
    api<Session>('/session').then(
      (s) => {
        setCsrfToken(s.csrfToken);
        setSession(s);
        connectLive(s.sections.filter((x) => x.read).map((x) => x.name));
      },
      (error: Error) => setFailure(error.message),
    );
    const onHash = () => {
      setCurrent(location.hash.slice(1));
      setStatus({ message: '', error: false });
    };
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  if (failure) return html`<main><h1>Operations console</h1><p role="alert">${failure}</p></main>`;
  if (!session) return html`<main><p class="loading">Loading the console…</p></main>`;
  const readable = session.sections.filter((s) => s.read);
  const active = readable.find((s) => s.name === current) ?? readable[0];
  const say: Say = (message, error = false) => setStatus({ message, error });
  const View = active ? VIEWS[active.name] : undefined;
  return html`
    <header class="top">
      <h1>${session.title}</h1>
      <p class="who">Signed in as <strong>${session.subject}</strong></p>
    </header>
    <nav aria-label="Console sections">
      <ul class="tabs">
        ${readable.map(
          (s) => html`<li><a href=${`#${s.name}`} aria-current=${s === active ? 'page' : undefined}
            class=${s === active ? 'tab active' : 'tab'}>${LABELS[s.name] ?? s.name}${
              s.write ? '' : html` <span class="badge">read-only</span>`
            }</a></li>`,
        )}
      </ul>
    </nav>
    <p class=${status.error ? 'status error' : 'status'} role="status" aria-live="polite">${status.message}</p>
    <main id="section" data-section=${active?.name}>
      ${
        active && View
          ? html`<h2>${LABELS[active.name]}${active.write ? '' : html` <span class="badge">read-only</span>`}</h2>
            <${View} key=${active.name} write=${active.write} say=${say} />
            <${HistoryView} section=${active.name} />`
          : html`<p>You may not read any section of this console.</p>`
      }
    </main>
  `;
}

(document.getElementById('app') as HTMLElement).textContent = '';
render(html`<${App} />`, document.getElementById('app') as HTMLElement);
