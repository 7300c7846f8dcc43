// pg is loaded when the first session opens: validation and reports, which know the fault kinds, never pay for it.
import type pg from 'pg';

const CONNECT_TIMEOUT_MS = 2000;
/** Bound on connections `hold` opens when the scenario gives no count. */
export const MAX_HELD_CONNECTIONS = 10_000;

/**
 * Harness-side database sessions that a pool fault holds, always closable, never thrown from on close.
 * Once stopped (`stop`, `closeAll`) it opens nothing more: a fill under way ends, and a session
 * that finishes connecting afterwards is closed rather than kept.
 */
export class HeldSessions {
  private readonly clients: pg.Client[] = [];
  /** Opens under way; `closeAll` waits for them (each bounded by the connect timeout). */
  private readonly opening = new Set<Promise<pg.Client | false>>();
  private stopped = false;

  get count(): number {
    return this.clients.length;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Opens one session; resolves false when the server refuses (no slot left), does not answer, or this was stopped. */
  open(url: string, name: string): Promise<pg.Client | false> {
    if (this.stopped) return Promise.resolve(false);
    const op = this.connect(url, name);
    this.opening.add(op);
    void op.then(() => this.opening.delete(op));
    return op;
  }

  /** Opens sessions until `limit`, until the server refuses one, or until stopped; returns how many are held. */
  async fill(url: string, name: string, limit: number): Promise<number> {
    for (let i = 0; i < Math.min(limit, MAX_HELD_CONNECTIONS) && !this.stopped; i++) {
      if (!(await this.open(url, name))) break;
    }
    return this.count;
  }

  /** Opens nothing more; the sessions already held stay held. */
  stop(): void {
    this.stopped = true;
  }

  /** Stops, closes every held session, and returns once no session is left connecting either. */
  async closeAll(): Promise<void> {
    this.stop();
    const all = this.clients.splice(0);
    await Promise.all([...all.map((c) => c.end().catch(() => undefined)), ...this.opening]);
  }

  private async connect(url: string, name: string): Promise<pg.Client | false> {
    const { default: driver } = await import('pg');
    if (this.stopped) return false;
    const client = new driver.Client({ connectionString: url, application_name: name, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    client.on('error', () => undefined);
    const connected = await client.connect().then(
      () => true,
      () => false,
    );
    if (!connected || this.stopped) {
      await client.end().catch(() => undefined);
      return false;
    }
    this.clients.push(client);
    return client;
  }
}
