import { currentUser } from '../lib/services';

type Search = Promise<Record<string, string | undefined>>;

export default async function SignIn({ searchParams }: { searchParams: Search }) {
  const { phone, challenge, error } = await searchParams;
  const user = await currentUser();
  return (
    <>
      <h1>Sign in with a one-time code</h1>
      {user && (
        <section>
          <p className="ok">
            You are signed in as {user.phone}. <a href="/rooms">Go to rooms</a>
          </p>
          <form method="post" action="/api/auth/signout">
            <button type="submit">Sign out</button>
          </form>
        </section>
      )}
      {error && (
        <p className="error" data-testid="error">
          {error}
        </p>
      )}
      {!challenge ? (
        <section>
          <form method="post" action="/api/auth/code" className="inline">
            <label htmlFor="phone">Phone (E.164)</label>
            <input id="phone" name="phone" defaultValue={phone ?? '+15555550100'} />
            <button type="submit">Send code</button>
          </form>
          <p>
            In development the SMS goes to the memory provider: read it on the{' '}
            <a href="/dev/outbox">dev outbox</a>.
          </p>
        </section>
      ) : (
        <section>
          <p>
            A code was sent to <strong>{phone}</strong>. Find it on the <a href="/dev/outbox">dev outbox</a>.
          </p>
          <form method="post" action="/api/auth/verify" className="inline">
            <input type="hidden" name="phone" value={phone} />
            <input type="hidden" name="challengeId" value={challenge} />
            <label htmlFor="code">Code</label>
            <input id="code" name="code" autoComplete="one-time-code" inputMode="numeric" />
            <button type="submit">Verify</button>
          </form>
        </section>
      )}
    </>
  );
}
