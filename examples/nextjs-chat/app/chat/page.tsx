import { currentUser, getServices } from '../../lib/services';

type Search = Promise<Record<string, string | undefined>>;

export default async function Chat({ searchParams }: { searchParams: Search }) {
  const user = await currentUser();
  const services = await getServices();
  const context = { userId: user?.userId };
  const newUi = services.flags.isEnabled('new-chat-ui', context);
  const typing = services.flags.isEnabled('typing-indicators', context);
  const rooms = await services.rooms.list();
  const { room: roomParam } = await searchParams;
  const room = rooms.find((r) => r.id === roomParam) ?? rooms[0];
  const messages = room ? await services.messages.list(room.id, 50) : [];
  return (
    <>
      <h1>Chat</h1>
      <section
        className={newUi ? 'new-ui' : 'classic-ui'}
        data-testid="chat-ui"
        data-ui={newUi ? 'new' : 'classic'}
      >
        {newUi ? (
          <h2 data-testid="ui-label">The new chat UI</h2>
        ) : (
          <h2 data-testid="ui-label">Classic chat UI</h2>
        )}
        <p>
          This page follows the <code>new-chat-ui</code> flag for your user. Flip it on the{' '}
          <a href="/flags">flags page</a> and reload.
        </p>
        {typing && (
          <p>
            <em>Typing indicators are on for you (typing-indicators rollout).</em>
          </p>
        )}
      </section>
      {!user ? (
        <p>
          <a href="/">Sign in</a> to chat.
        </p>
      ) : !room ? (
        <p>
          No rooms yet: <a href="/rooms">create one</a>.
        </p>
      ) : (
        <section>
          <p>
            Room:{' '}
            {rooms.map((r) => (
              <a key={r.id} href={`/chat?room=${r.id}`} style={{ marginRight: '0.75rem' }}>
                {r.id === room.id ? <strong>#{r.name}</strong> : `#${r.name}`}
              </a>
            ))}
          </p>
          <ul data-testid="messages" className={newUi ? 'bubbles' : undefined}>
            {messages.map((m) => (
              <li key={m.id}>
                <strong>{m.userId}</strong>: {m.text}
              </li>
            ))}
          </ul>
          <form method="post" action="/api/messages" className="inline">
            <input type="hidden" name="roomId" value={room.id} />
            <input name="text" aria-label="message" placeholder="Say something" />
            <button type="submit">Send</button>
          </form>
        </section>
      )}
    </>
  );
}
