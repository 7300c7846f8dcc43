import pg from 'pg';
import { withTimeout } from './timeout.js';

/** The application_name of the observer's own sessions; they are never counted. */
export const OBSERVER_APPLICATION_NAME = 'gameday-observer';

/** Client sessions on the server, as PostgreSQL counts them against max_connections. */
export interface DatabaseActivity {
  /** Every client backend, whatever its database, except the observer's. */
  total: number;
  /** By application_name (each replica sets its own name); '' for sessions that set none. */
  byApplication: Record<string, number>;
  /** By state: active, idle, idle in transaction, ... ('' when the server does not say). */
  byState: Record<string, number>;
}

const ACTIVITY_SQL = `
SELECT coalesce(application_name, '') AS application_name, coalesce(state, '') AS state, count(*)::int AS sessions
FROM pg_stat_activity
WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name IS DISTINCT FROM $1
GROUP BY 1, 2`;

interface ActivityRow {
  application_name: string;
  state: string;
  sessions: number;
}

export function summarizeActivity(rows: readonly ActivityRow[]): DatabaseActivity {
  const activity: DatabaseActivity = { total: 0, byApplication: {}, byState: {} };
  for (const { application_name: app, state, sessions } of rows) {
    activity.total += sessions;
    activity.byApplication[app] = (activity.byApplication[app] ?? 0) + sessions;
    activity.byState[state] = (activity.byState[state] ?? 0) + sessions;
  }
  return activity;
}

/**
 * Reads pg_stat_activity on ONE connection, opened on first use and kept; a connection that
 * fails or times out is dropped and the next read opens a new one. Every read is bounded by
 * `timeoutMs` (connect included), client- and server-side.
 */
export class ActivityProbe {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  async read(): Promise<DatabaseActivity> {
    try {
      return await withTimeout(this.query(), this.timeoutMs, 'pg_stat_activity');
    } catch (err) {
      this.drop();
      throw err;
    }
  }

  /** Ends the connection; bounded, since a frozen server may never answer the goodbye. */
  async close(): Promise<void> {
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    this.client = undefined;
    this.connecting = undefined;
    if (client) await withTimeout(client.end(), this.timeoutMs, 'closing the observer connection').catch(() => undefined);
  }

  private async query(): Promise<DatabaseActivity> {
    const client = await this.connect();
    const { rows } = await client.query<ActivityRow>(ACTIVITY_SQL, [OBSERVER_APPLICATION_NAME]);
    return summarizeActivity(rows);
  }

  private connect(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async open(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.databaseUrl,
      application_name: OBSERVER_APPLICATION_NAME,
      connectionTimeoutMillis: this.timeoutMs,
      query_timeout: this.timeoutMs,
      statement_timeout: this.timeoutMs,
      keepAlive: true,
    });
    // A connection lost between reads must not crash the harness; the next read reconnects.
    client.on('error', () => {
      if (this.client === client) this.client = undefined;
    });
    await client.connect();
    this.client = client;
    return client;
  }

  private drop(): void {
    const client = this.client;
    this.client = undefined;
    client?.end().catch(() => undefined);
  }
}
