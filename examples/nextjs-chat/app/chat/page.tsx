import { currentUser, getServices } from '../../lib/services';

export default async function Chat() {
  const user = await currentUser();
  const services = await getServices();
  const context = { userId: user?.userId };
  const newUi = services.flags.isEnabled('new-chat-ui', context);
  const typing = services.flags.isEnabled('typing-indicators', context);
  return (
    <>
      <h1>Chat</h1>
      <section
        className={newUi ? 'new-ui' : 'classic-ui'}
        data-testid="chat-ui"
        data-ui={newUi ? 'new' : 'classic'}
      >
        {newUi ? (
          <h2 data-testid="ui-label">✨ The new chat UI</h2>
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
    </>
  );
}
