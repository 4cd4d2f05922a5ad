import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A chat room. */
export interface Room {
  id: string;
  name: string;
  /** The user id of its creator (`AppServices.rooms.create` makes the creator its owner). */
  createdBy: string;
  /** ISO 8601. */
  createdAt: string;
}

/** A message in a room. */
export interface Message {
  id: string;
  roomId: string;
  userId: string;
  text: string;
  /** ISO 8601. */
  sentAt: string;
}

/** A signed-in session. */
export interface Session {
  userId: string;
  /** E.164. */
  phone: string;
}

/** Rooms: in memory, or one Redis hash (`<prefix>rooms`, field = room id) shared by every instance. */
export interface RoomStore {
  list(): Promise<Room[]>;
  create(name: string, createdBy: string): Promise<Room>;
  get(id: string): Promise<Room | undefined>;
  delete(id: string): Promise<boolean>;
}

/** The messages of each room, newest last (a capped Redis list per room, or memory). */
export interface MessageStore {
  list(roomId: string, limit?: number): Promise<Message[]>;
  add(message: Message): Promise<void>;
  /** Forgets a room's messages (when the room is deleted). */
  clear(roomId: string): Promise<void>;
}

/** Users by phone number, and sessions by token. */
export interface UserStore {
  /** The user id of `phone`, creating it atomically: `created` is true for exactly one caller, ever. */
  findOrCreate(phone: string): Promise<{ userId: string; created: boolean }>;
  putSession(token: string, session: Session, ttlMs: number): Promise<void>;
  getSession(token: string): Promise<Session | undefined>;
  deleteSession(token: string): Promise<void>;
}

/** Most messages kept per room. */
export const MAX_MESSAGES_PER_ROOM = 200;

/** Rooms in creation order (ties by id). */
export const byCreation = (a: Room, b: Room) =>
  a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id);

/** A new room with a short random id, created now. */
export function newRoom(name: string, createdBy: string): Room {
  return { id: randomUUID().slice(0, 8), name, createdBy, createdAt: new Date().toISOString() };
}

/** JSON text to a value, or `undefined` when absent or corrupt. */
export function parse<T>(text: string | null | undefined): T | undefined {
  if (text === null || text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** Rooms, messages, users and sessions in this process. */
export function memoryStores(): { rooms: RoomStore; messages: MessageStore; users: UserStore } {
  const rooms = new Map<string, Room>();
  const messages = new Map<string, Message[]>();
  const users = new Map<string, string>();
  const sessions = new Map<string, { session: Session; expiresAt: number }>();
  return {
    rooms: {
      async list() {
        return [...rooms.values()].sort(byCreation);
      },
      async create(name, createdBy) {
        const room = newRoom(name, createdBy);
        rooms.set(room.id, room);
        return room;
      },
      async get(id) {
        return rooms.get(id);
      },
      async delete(id) {
        return rooms.delete(id);
      },
    },
    messages: {
      async list(roomId, limit = 50) {
        return (messages.get(roomId) ?? []).slice(-limit);
      },
      async add(message) {
        const list = messages.get(message.roomId) ?? [];
        list.push(message);
        if (list.length > MAX_MESSAGES_PER_ROOM) list.splice(0, list.length - MAX_MESSAGES_PER_ROOM);
        messages.set(message.roomId, list);
      },
      async clear(roomId) {
        messages.delete(roomId);
      },
    },
    users: {
      async findOrCreate(phone) {
        const existing = users.get(phone);
        if (existing) return { userId: existing, created: false };
        const userId = `u-${randomUUID().slice(0, 12)}`;
        users.set(phone, userId);
        return { userId, created: true };
      },
      async putSession(token, session, ttlMs) {
        sessions.set(token, { session, expiresAt: Date.now() + ttlMs });
      },
      async getSession(token) {
        const entry = sessions.get(token);
        if (!entry) return undefined;
        if (entry.expiresAt <= Date.now()) {
          sessions.delete(token);
          return undefined;
        }
        return entry.session;
      },
      async deleteSession(token) {
        sessions.delete(token);
      },
    },
  };
}

/** The same stores on Redis, shared by every instance using the same `keyPrefix`. */
export function redisStores(
  client: Redis,
  keyPrefix: string,
): { rooms: RoomStore; messages: MessageStore; users: UserStore } {
  const roomsKey = `${keyPrefix}rooms`;
  const usersKey = `${keyPrefix}users`;
  const messagesKey = (roomId: string) => `${keyPrefix}messages:${roomId}`;
  const sessionKey = (token: string) => `${keyPrefix}session:${token}`;
  return {
    rooms: {
      async list() {
        const all = await client.hvals(roomsKey);
        return all
          .map((text) => parse<Room>(text))
          .filter((room): room is Room => room !== undefined)
          .sort(byCreation);
      },
      async create(name, createdBy) {
        const room = newRoom(name, createdBy);
        await client.hset(roomsKey, room.id, JSON.stringify(room));
        return room;
      },
      async get(id) {
        return parse<Room>(await client.hget(roomsKey, id));
      },
      async delete(id) {
        return (await client.hdel(roomsKey, id)) === 1;
      },
    },
    messages: {
      async list(roomId, limit = 50) {
        const texts = await client.lrange(messagesKey(roomId), -limit, -1);
        return texts.map((text) => parse<Message>(text)).filter((m): m is Message => m !== undefined);
      },
      async add(message) {
        // One round trip: append and cap.
        await client
          .multi()
          .rpush(messagesKey(message.roomId), JSON.stringify(message))
          .ltrim(messagesKey(message.roomId), -MAX_MESSAGES_PER_ROOM, -1)
          .exec();
      },
      async clear(roomId) {
        await client.del(messagesKey(roomId));
      },
    },
    users: {
      async findOrCreate(phone) {
        const candidate = `u-${randomUUID().slice(0, 12)}`;
        // HSETNX decides atomically which concurrent first sign-in creates the user.
        if ((await client.hsetnx(usersKey, phone, candidate)) === 1)
          return { userId: candidate, created: true };
        const existing = await client.hget(usersKey, phone);
        if (!existing) throw new Error(`[@app-examples/shared] user ${phone} vanished from ${usersKey}`);
        return { userId: existing, created: false };
      },
      async putSession(token, session, ttlMs) {
        await client.set(sessionKey(token), JSON.stringify(session), 'PX', ttlMs);
      },
      async getSession(token) {
        return parse<Session>(await client.get(sessionKey(token)));
      },
      async deleteSession(token) {
        await client.del(sessionKey(token));
      },
    },
  };
}
