import { runScript } from '@app/core';
import { compilePattern } from '../../pattern.js';
import type { RedisContext } from './options.js';
import { REGISTER_NAME } from './scripts.js';

/**
 * The registry of event names: a set (so a pattern subscription can list the names it matches) and a log
 * of names as they first appear (so it can follow names published after it started). Each process registers
 * a name once per connection: a restarted server forgets them, so the cache is cleared when it drops.
 */
export class NameRegistry {
  private readonly known = new Set<string>();
  private readonly forget = () => this.known.clear();

  constructor(private readonly ctx: RedisContext) {
    ctx.client.on('close', this.forget);
  }

  /** Whether this process registered `name` since the connection last dropped. */
  has(name: string): boolean {
    return this.known.has(name);
  }

  /**
   * Registers `name` (one script call, sent before anything the caller sends next on the connection).
   * Resolves once registered; never rejects (an unregistered name is registered on its next publish).
   */
  register(name: string): Promise<void> {
    const { client, namesKey, namesLogKey, logger } = this.ctx;
    return runScript(client, REGISTER_NAME, [namesKey, namesLogKey], [name]).then(
      () => void this.known.add(name),
      (error: unknown) => logger.debug({ err: error, event: name }, 'could not register an event name'),
    );
  }

  /** Every registered name matching `pattern` (SSCAN, never KEYS). */
  async matching(pattern: string): Promise<string[]> {
    const matches = compilePattern(pattern);
    const names: string[] = [];
    let cursor = '0';
    do {
      const [next, members] = (await this.ctx.client.call(
        'SSCAN',
        this.ctx.namesKey,
        cursor,
        'COUNT',
        500,
      )) as [string, string[]];
      cursor = next;
      for (const name of members) if (matches(name)) names.push(name);
    } while (cursor !== '0');
    return names;
  }

  close(): void {
    this.ctx.client.removeListener('close', this.forget);
  }
}
