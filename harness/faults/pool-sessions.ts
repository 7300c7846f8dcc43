import pg from 'pg';

const CONNECT_TIMEOUT_MS = 2000;
/** Bound on connections `hold` opens when the scenario gives no count. */
export const MAX_HELD_CONNECTIONS = 10_000;

/** Harness-side database sessions that a pool fault holds, always closable, never thrown from on close. */
export class HeldSessions {
  private readonly clients: pg.Client[] = [];

  get count(): number {
    return this.clients.length;
  }

  /** Opens one session; resolves false when the server refuses (no slot left) or does not answer. */
  async open(url: string, name: string): Promise<pg.Client | false> {
    const client = new pg.Client({ connectionString: url, application_name: name, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch {
      await client.end().catch(() => undefined);
      return false;
    }
    this.clients.push(client);
    return client;
  }

  /** Opens sessions until `limit` or until the server refuses one; returns how many are held. */
  async fill(url: string, name: string, limit: number): Promise<number> {
    for (let i = 0; i < Math.min(limit, MAX_HELD_CONNECTIONS); i++) {
      if (!(await this.open(url, name))) break;
    }
    return this.count;
  }

  async closeAll(): Promise<void> {
    const all = this.clients.splice(0);
    await Promise.all(all.map((c) => c.end().catch(() => undefined)));
  }
}
