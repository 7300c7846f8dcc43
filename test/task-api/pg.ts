import pg from 'pg';
import { freePort } from '../../harness/platform/local/free-port.js';
import { startEmbeddedPostgres } from '../../harness/platform/local/postgres.js';

export interface TestPostgres {
  /** URL of the `postgres` database, as the superuser. */
  url: string;
  port: number;
  /** Creates an empty database and returns its URL (for tests that need a fresh schema). */
  createDatabase(name: string): Promise<string>;
  /** Stops the server and removes its files; safe to call twice. */
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'gameday';

export { freePort };

export function databaseUrl(port: number, database: string): string {
  return `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

/**
 * A throwaway PostgreSQL cluster: the harness's own embedded server (a temp directory, a free port,
 * its own process group), plus a way to make fresh databases in it.
 */
export async function startTestPostgres(maxConnections = 100): Promise<TestPostgres> {
  const db = await startEmbeddedPostgres(maxConnections);
  const port = Number(new URL(db.url).port);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await db.stop();
  };
  const createDatabase = async (name: string): Promise<string> => {
    const client = new pg.Client({ connectionString: databaseUrl(port, 'postgres') });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
    } finally {
      await client.end();
    }
    return databaseUrl(port, name);
  };
  return { url: databaseUrl(port, 'postgres'), port, createDatabase, stop };
}
