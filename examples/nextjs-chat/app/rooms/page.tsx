import { currentUser, getServices } from '../../lib/services';
import { DeleteRoomButton } from './delete-room-button';

export default async function Rooms({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const { error } = await searchParams;
  const user = await currentUser();
  if (!user) {
    return (
      <p>
        <a href="/">Sign in</a> to see the rooms.
      </p>
    );
  }
  const services = await getServices();
  const rooms = await services.rooms.list();
  const decisions = await Promise.all(
    rooms.map((room) => services.permissions.explain(user.userId, 'delete', `room:${room.id}`)),
  );
  return (
    <>
      <h1>Rooms</h1>
      <p>
        Whoever creates a room owns it (the <code>owner</code> role, scoped to that room) and may delete it.
        On a room someone else owns, <strong>Delete</strong> is refused with 403 by{' '}
        <code>@app/permissions/next</code>;<strong> Make me owner</strong> (demo only) grants you that room's
        owner role.
      </p>
      {error && <p className="error">{error}</p>}
      <section>
        <form method="post" action="/api/rooms" className="inline">
          <label htmlFor="room-name">New room</label>
          <input id="room-name" name="name" placeholder="general" />
          <button type="submit">Create room</button>
        </form>
      </section>
      <section>
        <table>
          <thead>
            <tr>
              <th>Room</th>
              <th>Created by</th>
              <th>May I delete it? (explain)</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rooms.map((room, i) => (
              <tr key={room.id} data-testid={`room-${room.name}`}>
                <td className="wrap-anywhere">{room.name}</td>
                <td>{room.createdBy === user.userId ? 'you (owner)' : room.createdBy}</td>
                <td data-testid={`decision-${room.name}`}>
                  <code>{decisions[i]?.allowed ? 'allowed' : 'denied'}</code> {decisions[i]?.reason}
                </td>
                <td>
                  <DeleteRoomButton roomId={room.id} />{' '}
                  {!decisions[i]?.allowed && (
                    <form method="post" action={`/api/rooms/${room.id}/owner`} className="inline">
                      <button type="submit">Make me owner</button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {rooms.length === 0 && <p>No rooms yet.</p>}
      </section>
    </>
  );
}
