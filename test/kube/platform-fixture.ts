import { spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { startFakeKube, type FakeKube, type FakeKubeOptions, type KubeObject, type PodBacking } from './fake/index.js';
import { startTestPostgres, type TestPostgres } from '../task-api/pg.js';
import { buildTaskApiImage, type TaskApiImage } from '../../harness/platform/local/task-api.js';
import type { KubernetesPlatformPlan } from '../../harness/kube/index.js';

/**
 * A fake cluster whose pods are real: Task API pods are Task API processes on loopback (one
 * embedded PostgreSQL behind them, seeded once), the PostgreSQL StatefulSet's pod is that
 * PostgreSQL, and Job pods (the seed) exit 0 without a process. The platform under test sees only
 * the API server; its traffic goes through the API server's port-forward to the processes.
 */
export interface KubeWorld {
  kube: FakeKube;
  pg: TestPostgres;
  /** The Task API's database (the Secret's POSTGRES_DB), reachable as postgres/gameday. */
  databaseUrl: string;
  /** The environment a harness run needs (KUBECONFIG; the test PostgreSQL's password). */
  env: NodeJS.ProcessEnv;
  /** How many Task API processes were started for pods so far. */
  started(): number;
  close(): Promise<void>;
}

export const NAMESPACE = 'gameday-test';
export const SEED_ROWS = 200;

const live = new Set<ChildProcess>();

/** The bundled Task API (what a container image is to a pod): plain node, no compile at start. */
function runImage(image: TaskApiImage, command: 'serve' | 'seed', env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [image.file, command], { env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

function exitOf(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? 137);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 137)));
}

/** Starts `serve` and resolves with its port once it printed its `listening` line. */
async function serve(image: TaskApiImage, env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const child = runImage(image, 'serve', env);
  let out = '';
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`task-api did not listen in 30 s: ${err}`)), 30_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`task-api exited (${code}) before listening: ${err}`));
    });
  });
  child.stdout?.resume();
  return { child, port };
}

export async function startKubeWorld(options: FakeKubeOptions = {}): Promise<KubeWorld> {
  const [pgServer, image] = await Promise.all([startTestPostgres(200), buildTaskApiImage()]);
  const databaseUrl = await pgServer.createDatabase('tasks');
  // The Secret's user (postgres.yaml: taskapi), with the password the harness is given (GAMEDAY_POSTGRES_PASSWORD).
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query("CREATE ROLE taskapi LOGIN PASSWORD 'gameday'");
  await admin.query('GRANT ALL ON DATABASE tasks TO taskapi');
  await admin.end();
  const seed = runImage(image, 'seed', { DATABASE_URL: databaseUrl, SEED_ROWS: String(SEED_ROWS) });
  seed.stdout?.resume();
  seed.stderr?.resume();
  if ((await exitOf(seed)) !== 0) throw new Error('seeding the test database failed');
  const grant = new pg.Client({ connectionString: databaseUrl });
  await grant.connect();
  await grant.query('GRANT ALL ON ALL TABLES IN SCHEMA public TO taskapi; GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO taskapi');
  await grant.end();
  let started = 0;
  const backing = async (pod: KubeObject): Promise<PodBacking | undefined> => {
    const labels = pod.metadata.labels ?? {};
    if (labels['app'] === 'postgres') return { ports: { 5432: pgServer.port }, stop: async () => undefined };
    if (labels['app'] !== 'task-api') return undefined;
    started++;
    const replica = await serve(image, { DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', REPLICA_NAME: pod.metadata.name, POOL_SIZE: '4', FAULT_INJECTION: 'leak' });
    return {
      ports: { 8000: replica.port },
      // The fake's metrics API reads the pod's usage from this process's /proc, as metrics-server reads cgroups.
      ...(replica.child.pid !== undefined ? { pid: replica.child.pid } : {}),
      exited: exitOf(replica.child),
      stop: async () => {
        replica.child.kill('SIGKILL');
        await exitOf(replica.child);
      },
    };
  };
  const kube = await startFakeKube({
    namespaces: ['default', { name: NAMESPACE, labels: { environment: 'staging' } }, { name: 'prod-like', labels: { environment: 'production' } }],
    backing,
    ...options,
  });
  // The seed Job's pod: the database is seeded already, so it only has to succeed.
  kube.setPodBehaviour({ labels: { 'job-name': 'task-api-seed' } }, { backed: false, exitCode: 0, runMs: 20 });
  return {
    kube,
    pg: pgServer,
    databaseUrl,
    env: { ...process.env, KUBECONFIG: kube.kubeconfigPath, GAMEDAY_POSTGRES_PASSWORD: 'gameday' },
    started: () => started,
    async close() {
      await kube.close();
      for (const c of [...live]) c.kill('SIGKILL');
      await Promise.all([...live].map(exitOf));
      await pgServer.stop();
      await image.remove();
    },
  };
}

/** A deploy plan into the test namespace (the builders' objects, the fake's kubelet). */
export function deployPlan(overrides: Partial<KubernetesPlatformPlan> = {}): KubernetesPlatformPlan {
  return {
    kind: 'kubernetes',
    namespace: NAMESPACE,
    workload: {
      kind: 'deploy',
      image: 'gameday/task-api:test',
      postgresImage: 'postgres:17',
      replicas: 3,
      pool: { size: 4, acquireTimeoutMs: 2000, statementTimeoutMs: 5000 },
      seedRows: SEED_ROWS,
      terminationGracePeriodMs: 1000,
      faultInjection: [],
      labels: { environment: 'staging' },
    },
    access: { kind: 'port-forward', service: 'task-api', port: 8000 },
    readyTimeoutMs: 20_000,
    guard: { allowNamespaces: [NAMESPACE], allowProduction: false, allowModeAll: false },
    ...overrides,
  };
}

/** Rows of `tasks` (a check that the traffic reached the real database). */
export async function countTasks(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ n: string }>('SELECT count(*) AS n FROM tasks');
    return Number(r.rows[0]?.n ?? 0);
  } finally {
    await c.end();
  }
}
