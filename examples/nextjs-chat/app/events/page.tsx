import { getServices } from '../../lib/services';

export default async function Events() {
  const log = await (await getServices()).eventLog(100);
  return (
    <>
      <h1>Event log</h1>
      <p>
        From <code>@app/events</code> history, newest first. Handlers: <code>user.registered</code> → welcome
        email, notification preferences, analytics; <code>message.sent</code> → analytics.
      </p>
      <section>
        <table className="events">
          <thead>
            <tr>
              <th>At</th>
              <th>Event</th>
              <th>Data</th>
            </tr>
          </thead>
          <tbody>
            {log.map((e) => (
              <tr key={e.id} data-testid="event-row">
                <td>{e.at}</td>
                <td>{e.name}</td>
                <td>
                  <code className="json" data-testid="event-data">
                    {JSON.stringify(e.data)}
                  </code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
