import { getServices } from '../../../lib/services';

export default async function Outbox() {
  const services = await getServices();
  const sms = services.smsOutbox();
  const emails = services.emailOutbox();
  return (
    <>
      <h1>Dev outbox</h1>
      <p>What the memory providers were asked to deliver on this instance, newest first.</p>
      <section>
        <h2>SMS</h2>
        <table>
          <tbody>
            {sms.map((m) => (
              <tr key={`${m.at}-${m.to}-${m.body}`} data-testid="sms-row">
                <td>{m.at}</td>
                <td>{m.to}</td>
                <td data-testid="sms-body">{m.body}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h2>Email</h2>
        <table>
          <tbody>
            {emails.map((m) => (
              <tr key={`${m.at}-${m.to}-${m.subject}`} data-testid="email-row">
                <td>{m.at}</td>
                <td data-testid="email-row-provider">{m.provider}</td>
                <td>{m.to}</td>
                <td>{m.subject}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
