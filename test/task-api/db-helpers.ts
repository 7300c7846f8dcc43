import pg from 'pg';

/** Direct database access for tests: what the replicas do, seen from PostgreSQL's side. */

/** A connected client; a server stopped under it (some tests do that) must not crash the runner. */
async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  return client;
}

export async function withDb<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connect(url);
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface HeldLock {
  release(): Promise<void>;
}

/** Holds an ACCESS EXCLUSIVE lock on `tasks` until released: every query on the table waits. */
export async function lockTasks(url: string): Promise<HeldLock> {
  const client = await connect(url);
  await client.query('BEGIN');
  await client.query('LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE');
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

/** Holds a session-level advisory lock until released. */
export async function holdAdvisoryLock(url: string, key: number): Promise<HeldLock> {
  const client = await connect(url);
  await client.query('SELECT pg_advisory_lock($1)', [key]);
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await client.end();
    },
  };
}

/** Connections of one replica (by application_name), and how many of them wait on a lock. */
export async function replicaBackends(url: string, replicaName: string): Promise<{ total: number; waitingOnLock: number }> {
  return withDb(url, async (client) => {
    const { rows } = await client.query<{ total: number; waiting: number }>(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE wait_event_type = 'Lock')::int AS waiting
       FROM pg_stat_activity WHERE application_name = $1`,
      [replicaName],
    );
    return { total: rows[0]?.total ?? 0, waitingOnLock: rows[0]?.waiting ?? 0 };
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true; throws with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 5_000, everyMs = 25): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await check()) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
