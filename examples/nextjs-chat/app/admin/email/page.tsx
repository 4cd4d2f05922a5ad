import { getServices } from '../../../lib/services';

export default async function EmailAdmin() {
  const services = await getServices();
  const provider = String((await services.config.get('email.provider')) ?? 'ses');
  const recent = services.emailOutbox().slice(0, 5);
  return (
    <>
      <h1>Email provider</h1>
      <section>
        <p>
          Current provider (config key <code>email.provider</code>):{' '}
          <strong data-testid="current-provider">{provider}</strong>
        </p>
        {['ses', 'sendgrid'].map((name) => (
          <form key={name} method="post" action="/api/admin/email-provider" className="inline">
            <input type="hidden" name="provider" value={name} />
            <button type="submit" disabled={name === provider}>
              Switch to {name}
            </button>
          </form>
        ))}
        <p>
          The email service reads the key on every send: the next email goes through the new provider, no
          restart.
        </p>
      </section>
      <section>
        <form method="post" action="/api/admin/test-email" className="inline">
          <label htmlFor="to">Send a test email to</label>
          <input id="to" name="to" defaultValue="ada@example.com" />
          <button type="submit">Send test email</button>
        </form>
      </section>
      <section>
        <h2>Latest emails</h2>
        <table>
          <tbody>
            {recent.map((m) => (
              <tr key={`${m.at}-${m.to}-${m.subject}`}>
                <td data-testid="email-provider">{m.provider}</td>
                <td>{m.to}</td>
                <td>{m.subject}</td>
                <td>{m.at}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
