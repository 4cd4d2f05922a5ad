import './globals.css';
import type { ReactNode } from 'react';
import { currentUser, instanceName } from '../lib/services';

export const metadata = { title: '@app chat' };
export const dynamic = 'force-dynamic';

export default async function RootLayout({ children }: { children: ReactNode }) {
  const user = await currentUser();
  return (
    <html lang="en">
      <body>
        <nav>
          <strong>@app chat</strong>
          <a href="/">Sign in</a>
          <a href="/rooms">Rooms</a>
          <a href="/chat">Chat</a>
          <a href="/flags">Flags</a>
          <a href="/admin/email">Email admin</a>
          <a href="/events">Events</a>
          <a href="/dev/outbox">Dev outbox</a>
          <a href="/console">Console</a>
          <span className="who" data-testid="who">
            {user ? `signed in as ${user.phone} (${user.userId})` : 'not signed in'} · instance {instanceName}
          </span>
        </nav>
        <main>{children}</main>
      </body>
    </html>
  );
}
