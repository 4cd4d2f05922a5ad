import { currentUser, getServices } from '../../lib/services';

export default async function Flags() {
  const services = await getServices();
  const user = await currentUser();
  const names = services.flags.names();
  return (
    <>
      <h1>Feature flags</h1>
      <p>
        Definitions live in <code>@app/config</code>; every instance evaluates from a snapshot that follows
        changes live. {user ? `Evaluated for ${user.userId}.` : 'Sign in to see evaluations for your user.'}
      </p>
      <section>
        <table>
          <thead>
            <tr>
              <th>Flag</th>
              <th>Kill switch</th>
              <th>Rollout</th>
              <th>For me</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {names.map((name) => {
              const def = services.flags.definition(name);
              const evaluation = services.flags.evaluate(name, { userId: user?.userId });
              return (
                <tr key={name} data-testid={`flag-${name}`}>
                  <td>{name}</td>
                  <td data-testid={`flag-${name}-enabled`}>{def?.enabled ? 'on' : 'off'}</td>
                  <td>{def?.rollout ?? 100}%</td>
                  <td>
                    {evaluation.enabled ? 'enabled' : 'disabled'} <code>{evaluation.reason}</code>
                  </td>
                  <td>
                    <form method="post" action={`/api/flags/${name}`} className="inline">
                      <input type="hidden" name="enabled" value={def?.enabled ? 'false' : 'true'} />
                      <button type="submit" data-testid={`toggle-${name}`}>
                        {def?.enabled ? 'Turn off' : 'Turn on'}
                      </button>
                    </form>{' '}
                    <form method="post" action={`/api/flags/${name}`} className="inline">
                      <input
                        name="rollout"
                        type="number"
                        min={0}
                        max={100}
                        defaultValue={def?.rollout ?? 100}
                        aria-label={`rollout of ${name}`}
                        style={{ width: '4.5rem' }}
                      />
                      <button type="submit">Set rollout</button>
                    </form>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
    </>
  );
}
