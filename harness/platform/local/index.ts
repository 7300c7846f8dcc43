import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import type { LocalPlatformPlan } from '../../scenario/plan.js';
import { probeReplica } from '../../observe/replica-probe.js';
import { dumpDatabase, restoreDump } from './postgres-backup.js';
import type { DatabaseRecovery, Deployment, KillResult, NetworkControl, Platform, PlatformContext, ReplicaControl, ReplicaHttp, ReplicaResourceProbe } from '../types.js';
import { appTemplate } from './app.js';
import { LatencyProxy } from './latency-proxy.js';
import { findPrometheus, startPrometheus, type PrometheusServer } from './prometheus.js';
import { existingDatabase, startEmbeddedPostgres, type Database } from './postgres.js';
import { takeAhead, wantsEmbeddedDatabase } from './ahead.js';
import { Reaper } from './reaper.js';
import type { FrontService } from './service.js';
import { HandoffService } from './service-handoff.js';
import { ServiceProcess } from './service-process.js';
import { Supervisor, type LocalReplicaStatus } from './supervisor.js';
import type { ReplicaTemplate } from './replica.js';
import { buildTaskApiImage, startSeed, taskApiTemplate, type StartedSeed, type TaskApiImage } from './task-api.js';

const READY_TIMEOUT_MS = 60_000;

/** The local deployment: its replicas' statuses carry their pid and loopback port (local details, for local tests and probes). */
export interface LocalDeployment extends Deployment {
  replicas(): LocalReplicaStatus[];
  readonly resources: ReplicaResourceProbe;
  readonly replicaHttp: ReplicaHttp;
}

/**
 * The embedded default: PostgreSQL (embedded or an existing server), N replica processes under a
 * supervisor, and a Service in front of them. The replicas are the reference Task API (bundled,
 * database seeded) unless the plan names an app: any HTTP service, given PORT, and PostgreSQL only
 * if it asked for the database. Teardown runs in reverse order and is safe at any point of deploy.
 */
export class LocalPlatform implements Platform {
  readonly kind = 'local';
  readonly replicaControl: ReplicaControl;
  readonly networkControl: NetworkControl;
  private databaseProxy?: LatencyProxy;
  private database?: Database;
  private supervisor?: Supervisor;
  private service?: FrontService;
  private logDir?: string;
  private image?: TaskApiImage;
  private imageBuilding?: Promise<TaskApiImage>;
  private seed?: StartedSeed;
  private reaper?: Reaper;
  private prometheus?: PrometheusServer;
  private prometheusStarting?: Promise<{ url: string } | { skipped: string } | undefined>;
  private databaseStarting?: Promise<Database>;
  private tornDown = false;
  /** Set once an embedded database is up (an existing server named by URL is never destroyed). */
  databaseRecovery?: DatabaseRecovery;

  constructor(
    private readonly plan: LocalPlatformPlan,
    private readonly ctx: PlatformContext,
    private readonly clock: Clock,
  ) {
    this.replicaControl = { kill: async (name, mode) => this.kill(name, mode) };
    // Only the path replicas → PostgreSQL runs through a proxy the platform controls.
    this.networkControl = {
      supports: (target) => target.kind === 'database',
      delay: async ({ target, delay, direction }) => {
        if (target.kind !== 'database') throw new Error(`the local platform can delay only the database, not ${target.kind}`);
        this.requireProxy().setDelay({ ...delay, direction });
      },
      clearDelay: async () => this.databaseProxy?.clearDelay(),
    };
  }

  /** kill: SIGKILL to the replica's process group; terminate: SIGTERM, then SIGKILL after the grace period (as a pod's deletion). */
  private kill(name: string, mode: Parameters<ReplicaControl['kill']>[1]): KillResult {
    const pid = this.supervisor?.status(name)?.pid ?? null;
    const signal = mode.how === 'kill' ? 'SIGKILL' : 'SIGTERM';
    const killed = mode.how === 'kill' ? (this.supervisor?.kill(name, 'SIGKILL') ?? false) : (this.supervisor?.terminate(name, mode.graceMs) ?? false);
    return { killed, detail: { signal, pid } };
  }

  async deploy(signal: AbortSignal): Promise<LocalDeployment> {
    const { journal } = this.ctx;
    const t0 = this.clock.now();
    // The reaper listens before the first resource exists, and learns of each one before it exists
    // or the instant it is spawned: a harness killed at any point of deploy leaves nothing behind.
    // They may have started ahead, while the run's modules loaded (ahead.ts): the reaper, and the
    // embedded database and the Task API's bundle registered with it. Taken now, they are torn down
    // whatever happens.
    const taken = takeAhead();
    if (taken?.database) this.databaseStarting = taken.database;
    const abortAhead = (): void => taken?.abort.abort(signal.reason);
    if (signal.aborted) abortAhead();
    else signal.addEventListener('abort', abortAhead, { once: true });
    const reaperStarting = taken ? taken.reaper.then((r) => (r.alive ? r : Reaper.start()), () => Reaper.start()) : Reaper.start();
    const { app } = this.plan;
    // Only the in-memory bundle (no file yet) is built while the reaper starts.
    let imageBuilding = app ? undefined : (this.imageBuilding = taken?.image ?? buildTaskApiImage(reaperStarting));
    imageBuilding?.catch(() => undefined);
    const reaper = (this.reaper = await reaperStarting);
    // What started ahead is used only if this plan wants it and it is known to this reaper.
    const sameReaper = (await taken?.reaper.catch(() => undefined)) === reaper;
    const aheadDatabase = taken?.database && wantsEmbeddedDatabase(this.plan) && sameReaper ? taken.database : undefined;
    if (taken?.database && !aheadDatabase) {
      this.databaseStarting = undefined;
      await taken.database.then((d) => d.stop()).catch(() => undefined);
    }
    if (taken?.image && (app || !sameReaper)) {
      await taken.image.then((i) => i.remove()).catch(() => undefined);
      imageBuilding = this.imageBuilding = app ? undefined : buildTaskApiImage(Promise.resolve(reaper));
      imageBuilding?.catch(() => undefined);
    }
    signal.throwIfAborted();
    // Prometheus applies discovered targets on a 5 s tick: started now, that tick overlaps the deploy.
    const prometheusStarting = (this.prometheusStarting = this.startPrometheus(signal));
    prometheusStarting.catch(() => undefined);
    if (!this.ctx.logDir) {
      this.logDir = join(tmpdir(), `gameday-logs-${randomBytes(6).toString('hex')}`);
      reaper.watchPath(this.logDir);
      await mkdir(this.logDir, { mode: 0o700 });
    } else {
      this.logDir = this.ctx.logDir;
    }
    // The Service process and the database start side by side; both are torn down whatever happens.
    // The Task API takes each connection over its IPC channel (the Service steps out of the data
    // path); any other app is reached through the proxying Service process.
    this.service = app ? new ServiceProcess(journal) : new HandoffService(journal);
    const servicePort = this.service.start();
    if (this.service.pid) reaper.watchGroup(this.service.pid, 'SIGKILL');
    servicePort.catch(() => undefined);
    // The database (initdb, the slowest step) starts beside the image's build, not after it.
    const databaseStarting = !app || app.database ? (this.databaseStarting = this.plan.database.kind === 'embedded' ? (aheadDatabase ?? startEmbeddedPostgres(undefined, { reaping: reaper, signal })) : Promise.resolve(existingDatabase(this.plan.database.url))) : undefined;
    databaseStarting?.catch(() => undefined);
    this.image = await imageBuilding;
    signal.throwIfAborted();
    // The seed starts beside initdb too: it loads and generates rows until the database is ready.
    const seed = (this.seed = this.image && databaseStarting ? startSeed(this.image, this.plan.seedRows, { reaping: reaper }) : undefined);
    if (databaseStarting) {
      this.database = await databaseStarting;
      this.databaseRecovery = databaseRecovery(this.database);
      journal.record({ source: 'platform', type: 'database.ready', detail: { embedded: this.plan.database.kind === 'embedded', ms: Math.round(this.clock.now() - t0) } });
      signal.throwIfAborted();
    }
    // The seed and the replicas' start run side by side: the Task API's schema lock makes a replica
    // starting meanwhile wait in its schema check until the seed has committed.
    const seeding = seed && this.database ? seed.seed(this.database.url) : undefined;
    seeding?.then((s) => journal.record({ source: 'platform', type: 'database.seeded', detail: { rows: s.rows } })).catch(() => undefined);

    const replicaDatabaseUrl = this.database ? await this.replicaDatabaseUrl(this.database.url) : undefined;
    const port = await servicePort;
    let template: ReplicaTemplate;
    if (app) template = appTemplate(app, replicaDatabaseUrl);
    else if (this.image && replicaDatabaseUrl) template = taskApiTemplate(this.image, this.plan, replicaDatabaseUrl);
    else throw new Error('the Task API needs its image and a database');
    this.supervisor = new Supervisor(
      {
        app: app?.name ?? 'task-api',
        replicas: this.plan.replicas,
        probe: this.plan.readinessProbe,
        ...(app ? { probePath: app.readinessPath } : {}),
        ...(this.plan.livenessProbe ? { liveness: this.plan.livenessProbe } : {}),
        terminationGraceMs: this.plan.terminationGracePeriodMs,
        template,
        logDir: this.logDir,
        reaping: reaper,
      },
      this.service,
      journal,
      this.clock,
    );
    const tReplicas = this.clock.now();
    const supervisor = this.supervisor;
    // Each replica is a scrape target as soon as it listens (Prometheus applies new targets on its
    // own 5 s discovery tick): the first scrape is not held until all are ready.
    prometheusStarting.then(() => !this.tornDown && this.prometheus?.follow(() => supervisor.statuses())).catch(() => undefined);
    // Both settle before either's failure is thrown: a start is never left polling after teardown.
    const [seededOutcome, started] = await Promise.allSettled([seeding, this.supervisor.start(READY_TIMEOUT_MS)]);
    if (seededOutcome.status === 'rejected') throw seededOutcome.reason;
    if (started.status === 'rejected') throw started.reason;
    const seeded = seededOutcome.value;
    signal.throwIfAborted();
    journal.record({
      source: 'platform',
      type: 'platform.ready',
      detail: { replicas: this.plan.replicas, replicasReadyMs: Math.round(this.clock.now() - tReplicas), totalMs: Math.round(this.clock.now() - t0) },
    });
    const prometheus = await prometheusStarting;
    const server = this.prometheus;
    return {
      serviceUrl: `http://127.0.0.1:${port}`,
      ...(this.database ? { databaseUrl: this.database.url } : {}),
      ...(seeded ? { seededIds: seeded.ids, poolSize: this.plan.pool.size } : {}),
      ...(prometheus ? { prometheus } : {}),
      // The first scrape is waited for by the run, off the path to the first request.
      ...(server ? { waitScraped: (timeoutMs: number, sig: AbortSignal) => server.waitScraped(supervisor.statuses().map((r) => r.name), timeoutMs, sig) } : {}),
      replicas: () => supervisor.statuses(),
      resources: {
        // /proc/<pid> and the replica's /metrics on its loopback port; a replica already gone has nothing to probe.
        probe: (name, timeoutMs) => {
          const s = supervisor.status(name);
          return probeReplica({ name, ...(s?.pid ? { pid: s.pid } : {}), ...(s?.port ? { port: s.port } : {}) }, timeoutMs);
        },
      },
      replicaHttp: { request: (name, req) => replicaRequest(supervisor.status(name), name, req) },
    };
  }

  /** The server-side view, when asked for: a real Prometheus if there is a binary, else why not. */
  private async startPrometheus(signal: AbortSignal): Promise<{ url: string } | { skipped: string } | undefined> {
    if (!this.ctx.prometheus) return undefined;
    const binary = findPrometheus();
    if ('skipped' in binary) {
      this.ctx.journal.record({ source: 'platform', type: 'prometheus.skipped', detail: { reason: binary.skipped } });
      return binary;
    }
    this.prometheus = await startPrometheus(binary.path, { ...(this.reaper ? { reaping: this.reaper } : {}), signal });
    this.ctx.journal.record({ source: 'platform', type: 'prometheus.ready', detail: { url: this.prometheus.url, pid: this.prometheus.pid } });
    return { url: this.prometheus.url };
  }

  /** With a network-delay fault planned, replicas reach PostgreSQL through a latency proxy. */
  private async replicaDatabaseUrl(url: string): Promise<string> {
    if (!this.plan.databaseProxy) return url;
    const direct = new URL(url);
    this.databaseProxy = await LatencyProxy.start({ upstreamHost: direct.hostname, upstreamPort: Number(direct.port || 5432) });
    const proxied = new URL(url);
    proxied.port = String(this.databaseProxy.port);
    this.ctx.journal.record({ source: 'platform', type: 'database.proxy-ready', detail: { port: this.databaseProxy.port } });
    return proxied.toString();
  }

  private requireProxy(): LatencyProxy {
    if (!this.databaseProxy) throw new Error('no database proxy: the plan did not ask for one');
    return this.databaseProxy;
  }

  /** Pids of the live replica processes (for leak checks). */
  replicaPids(): number[] {
    return this.supervisor?.pids() ?? [];
  }

  async teardown(): Promise<void> {
    if (this.tornDown) return;
    this.tornDown = true;
    await this.prometheusStarting?.catch(() => undefined);
    await this.prometheus?.stop();
    await this.service?.close();
    await this.supervisor?.stop();
    this.seed?.stop();
    await this.databaseProxy?.close();
    // A database still starting when deploy failed (the image's build, an abort) is stopped too.
    await (this.database ?? (await this.databaseStarting?.catch(() => undefined)))?.stop();
    // A bundle still being built when deploy failed is removed too.
    await (this.image ?? (await this.imageBuilding?.catch(() => undefined)))?.remove();
    if (this.logDir && !this.ctx.logDir) await rm(this.logDir, { recursive: true, force: true });
    await this.reaper?.release();
  }
}

/** Backups go to `<cluster dir>/backups` (beside the data directory the disaster deletes; removed with the cluster). */
function databaseRecovery(db: Database): DatabaseRecovery | undefined {
  const { lifecycle, dir } = db;
  if (!lifecycle || !dir) return undefined;
  let n = 0;
  return {
    backup: async () => {
      const backups = join(dir, 'backups');
      await mkdir(backups, { recursive: true, mode: 0o700 });
      const s = await dumpDatabase(db.url, join(backups, `backup-${++n}.sql`));
      return { location: s.file, bytes: s.bytes, tables: s.tables, rows: s.rows, checkpointMs: s.checkpointMs, ms: s.ms };
    },
    destroy: async () => lifecycle.destroy(),
    restore: async (backup, signal) => {
      // Whatever a failed attempt left (a server, part of a cluster) goes first.
      await lifecycle.destroy();
      const started = await lifecycle.recreate(signal);
      const restored = await restoreDump(db.url, backup.location);
      return { pid: started.pid, startMs: started.ms, tables: restored.tables, rowsAfterLoad: restored.rows, loadMs: restored.ms };
    },
  };
}

/** One request to a replica's own loopback port (bypassing the Service). */
async function replicaRequest(status: LocalReplicaStatus | undefined, name: string, req: Parameters<ReplicaHttp['request']>[1]): Promise<{ status: number; body: string }> {
  if (status?.port === undefined) throw new Error(`replica ${name} is not listening`);
  const res = await fetch(`http://127.0.0.1:${status.port}${req.path}`, {
    method: req.method,
    ...(req.body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(req.body) } : {}),
    signal: AbortSignal.timeout(req.timeoutMs),
  });
  return { status: res.status, body: await res.text() };
}
