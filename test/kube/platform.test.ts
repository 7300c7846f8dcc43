import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, request } from 'undici';
import { SystemClock } from '../../harness/core/clock.js';
import { Journal } from '../../harness/core/journal.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubernetesPlatform } from '../../harness/platform/kubernetes/index.js';
import { BREAK_CONFIRM_MS } from '../../harness/platform/kubernetes/port-forward.js';
import { planFromText } from '../../harness/scenario/index.js';
import { runGameDay } from '../../harness/run/gameday.js';
import { deployPlan, NAMESPACE, SEED_ROWS, startKubeWorld, type KubeWorld } from './platform-fixture.js';

let world: KubeWorld;

beforeAll(async () => {
  world = await startKubeWorld({ timing: { scheduleMs: 20, createMs: 50, readyMs: 50, terminateMs: 20 }, metricsApi: true });
}, 60_000);

afterAll(async () => {
  await world?.close();
});

describe('Kubernetes platform: deploy, port-forward, teardown', () => {
  it('applies the objects in order, waits for ready pods, serves through the port-forward, and deletes everything it made', async () => {
    const clock = new SystemClock();
    const journal = new Journal(clock);
    const platform = new KubernetesPlatform(deployPlan(), { journal }, clock, { env: world.env, runId: 'deploy1' });
    const writesBefore = world.kube.writes().length;
    const deployment = await platform.deploy(new AbortController().signal);
    try {
      const creates = world.kube.writes().slice(writesBefore).filter((w) => w.info?.verb === 'create' && w.info.namespace === NAMESPACE);
      expect(creates.map((w) => `${w.info?.resource}/${(w.body as { metadata?: { name?: string } }).metadata?.name}`)).toEqual([
        'secrets/postgres',
        'services/postgres',
        'statefulsets/postgres',
        'jobs/task-api-seed',
        'services/task-api',
        'deployments/task-api',
      ]);
      for (const w of creates) expect((w.body as { metadata: { labels: Record<string, string> } }).metadata.labels['gameday.dev/run']).toBe('deploy1');
      // Context and namespace are journalled before the first object is applied.
      const events = journal.events();
      const ctxAt = events.findIndex((e) => e.type === 'kube.context');
      const firstApply = events.findIndex((e) => e.type === 'kube.applied');
      expect(ctxAt).toBeGreaterThanOrEqual(0);
      expect(ctxAt).toBeLessThan(firstApply);
      expect(events[ctxAt]?.detail).toMatchObject({ context: 'fake', namespace: NAMESPACE, run: 'deploy1' });

      expect(deployment.replicas().filter((r) => r.ready)).toHaveLength(3);
      expect(deployment.serviceUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      // Real requests through the API server's port-forward, one connection each, spread over the ready pods.
      const served = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const res = await request(`${deployment.serviceUrl}/metrics`, { reset: true });
        expect(res.statusCode).toBe(200);
        served.add(/task_api_info\{replica="([^"]+)"\}/.exec(await res.body.text())?.[1] ?? '');
      }
      expect([...served].sort()).toEqual(deployment.replicas().map((r) => r.name).sort());
      // A kept-alive connection whose pod dies ends; the next connection goes to a pod still ready.
      let victimOf = '';
      const keep = new Client(deployment.serviceUrl);
      try {
        const first = await keep.request({ method: 'GET', path: '/metrics' });
        const victim = /task_api_info\{replica="([^"]+)"\}/.exec(await first.body.text())?.[1] ?? '';
        await platform.replicaControl.kill(victim, { how: 'kill' });
        const deadline = Date.now() + 5_000;
        while (Date.now() < deadline && deployment.replicas().some((r) => r.name === victim)) await new Promise((r) => setTimeout(r, 20));
        const after = await request(`${deployment.serviceUrl}/metrics`, { reset: true });
        const next = /task_api_info\{replica="([^"]+)"\}/.exec(await after.body.text())?.[1] ?? '';
        expect(next).not.toBe('');
        expect(next).not.toBe(victim);
        // The pod's death is the service's event, not a port-forward failure (judged below, once its time has come).
        victimOf = victim;
      } finally {
        await keep.close().catch(() => undefined);
      }
      // A stream that breaks while its pod stays ready is the port-forward's failure: journalled, once
      // the pod is still ready BREAK_CONFIRM_MS later.
      const held = new Client(deployment.serviceUrl);
      try {
        const res = await held.request({ method: 'GET', path: '/health' });
        await res.body.dump();
        expect(world.kube.faults.breakPortForwards()).toBeGreaterThanOrEqual(1);
        const until = Date.now() + BREAK_CONFIRM_MS + 3_000;
        while (Date.now() < until && !journal.events().some((e) => e.type === 'portforward.broken')) await new Promise((r) => setTimeout(r, 50));
      } finally {
        await held.close().catch(() => undefined);
      }
      const broken = journal.events().filter((e) => e.type === 'portforward.broken');
      expect(broken.length).toBeGreaterThanOrEqual(1);
      expect(broken.map((e) => e.target)).not.toContain(victimOf);
      expect(Number(broken[0]?.detail?.['podReadyForMs'])).toBeGreaterThanOrEqual(BREAK_CONFIRM_MS - 50);
      expect(journal.events().some((e) => e.type === 'kube.traffic' && e.detail?.['via'] === 'port-forward')).toBe(true);
      // A stream the API server will not open to one pod: the connection goes to another, the
      // client is served, and the journal says it was the port-forward.
      const refused = deployment.replicas().find((r) => r.ready)?.name ?? '';
      const allow = world.kube.faults.forbid({ subresource: 'portforward', name: refused });
      try {
        for (let i = 0; i < 6; i++) {
          const res = await request(`${deployment.serviceUrl}/health`, { reset: true });
          expect(res.statusCode).toBe(200);
          await res.body.dump();
        }
      } finally {
        allow();
      }
      // Resources: memory from the metrics API, open fds and the pool gauges from the pod's /metrics.
      const probed = await deployment.resources!.probe(deployment.replicas().filter((r) => r.ready)[1]?.name ?? '', 5_000);
      expect(probed.errors).toEqual({});
      expect(probed.rssBytes).toBeGreaterThan(1_000_000);
      expect(probed.openFds).toBeGreaterThan(5);
      expect(probed.pool?.db_pool_total).toBeGreaterThanOrEqual(0);
      const failed = journal.events().filter((e) => e.type === 'portforward.connect-failed');
      expect(failed.length).toBeGreaterThanOrEqual(1);
      expect(new Set(failed.map((e) => e.target))).toEqual(new Set([refused]));
      // Each pod went through its phases, recorded in the journal.
      const phases = journal.events().filter((e) => e.type === 'replica.phase').map((e) => `${e.detail?.['phase']}`);
      expect(phases).toEqual(expect.arrayContaining(['Pending', 'ContainerCreating', 'Running', 'Ready']));
    } finally {
      await platform.teardown();
    }
    for (const kind of ['deployments', 'services', 'statefulsets', 'jobs', 'secrets', 'pods', 'replicasets']) {
      expect(world.kube.list(kind, NAMESPACE).filter((o) => o.metadata.labels?.['gameday.dev/run'] === 'deploy1').map((o) => o.metadata.name)).toEqual([]);
    }
    expect(journal.events().find((e) => e.type === 'kube.deleted')?.detail).toMatchObject({ leftovers: 0 });
    if (process.env.DEBUG_KUBE) for (const e of journal.events()) console.log(Math.round(e.atMs), e.type, e.target ?? "", JSON.stringify(e.detail ?? {}));
  }, 60_000);
});

/** A short pod-kill Game Day on the cluster: the fake's PodChaos controller kills one pod. */
function podKillScenario(): string {
  return `apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: kube-pod-kill }
spec:
  duration: 12s
  warmup: 2s
  platform:
    kubernetes:
      namespace: ${NAMESPACE}
      allowNamespaces: [${NAMESPACE}]
      deploy: { replicas: 3, seedRows: ${SEED_ROWS}, pool: { size: 4 }, terminationGracePeriod: 1s }
      readyTimeout: 30s
  load: { model: open, rate: 40, connections: 8, mix: { get: 100, create: 0, update: 0, list: 0 } }
  faults:
    - { name: kill-one, kind: pod-kill, at: 4s, duration: 3s, mode: one }
  slo: { latencyP95: 500ms }
  recovery: { window: 4s, sustain: 1s }
  checks:
    - { id: SC-008, name: Pod kill recovery time, metric: rto.platform, target: "< 30s" }
`;
}

describe('Kubernetes platform: a pod-kill Game Day', () => {
  it('kills one pod through a PodChaos, measures platform RTO from the pod watch, keeps traffic on the port-forward', async () => {
    // Replacements take the delays set here: the watch must see them to within 100 ms.
    // (set once the run has started: the deploy's own pods start fast)
    const timing = { scheduleMs: 300, createMs: 3500, readyMs: 400, terminateMs: 20 };
    let running = false;
    const unset = world.kube.setPodBehaviour(() => running, { timing });
    let undoTruth = (): void => undefined;
    const saved = { KUBECONFIG: process.env['KUBECONFIG'], GAMEDAY_POSTGRES_PASSWORD: process.env['GAMEDAY_POSTGRES_PASSWORD'] };
    process.env['KUBECONFIG'] = world.kube.kubeconfigPath;
    process.env['GAMEDAY_POSTGRES_PASSWORD'] = 'gameday';
    const out = await mkdtemp(join(tmpdir(), 'gameday-kube-run-'));
    try {
      const parsed = planFromText(podKillScenario(), { env: {} });
      if (!parsed.plan) throw new Error(JSON.stringify(parsed.problems));
      // The instants the fake itself deleted the Task API pod and made its replacement Ready: on a
      // loaded machine its timers run late, so the watch is judged against what the fake did, and
      // what the fake did against the delays set.
      const truth: { killedAt?: number; readyAt?: number } = {};
      const unsubscribe = world.kube.store.subscribe((e) => {
        if (e.resource.plural !== 'pods' || e.object.metadata.labels?.['app'] !== 'task-api' || !running) return;
        const gone = e.type === 'DELETED' || (e.object.metadata.deletionTimestamp !== undefined && e.old?.metadata.deletionTimestamp === undefined);
        if (gone && truth.killedAt === undefined) truth.killedAt = performance.now();
        const ready = (o: typeof e.object | undefined): boolean => ((o?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
        if (truth.killedAt !== undefined && truth.readyAt === undefined && e.type === 'MODIFIED' && ready(e.object) && !ready(e.old)) truth.readyAt = performance.now();
      });
      undoTruth = unsubscribe;
      // Mid-run (before the fault), the API server resets the pods watch: the platform resumes it.
      let dropped = 0;
      const onTick = (t: { elapsedMs: number }): void => {
        running = true;
        if (t.elapsedMs >= 2_000 && dropped === 0) dropped = world.kube.faults.dropWatches({ resource: 'pods', namespace: NAMESPACE }, 'destroy');
      };
      const outcome = await runGameDay(parsed.plan, { outDir: out, signal: new AbortController().signal, onTick });
      if (outcome.error) throw outcome.error;
      expect(outcome.status).toBe('completed');
      const analysis = outcome.analysis!;
      const events = analysis.events;
      if (process.env['DEBUG_KUBE']) for (const e of events) console.log(Math.round(e.atMs), e.type, e.target ?? '', JSON.stringify(e.detail ?? {}));
      // The PodChaos was created, injected, recovered and deleted; one pod was killed.
      const types = events.filter((e) => e.source === 'fault').map((e) => e.type);
      expect(types).toEqual(expect.arrayContaining(['chaos.created', 'chaos.injected', 'replica.killed', 'chaos.recovered', 'chaos.deleted']));
      const killed = events.filter((e) => e.type === 'replica.killed');
      expect(killed).toHaveLength(1);
      // Platform RTO from the watch: kill → replacement Ready, within 100 ms of what the fake did,
      // which took the delays set above (its timers may only run late, never early).
      const expected = timing.scheduleMs + timing.createMs + timing.readyMs;
      const rto = analysis.rtos[0]?.platform.rtoMs ?? null;
      expect(rto).not.toBeNull();
      const actual = (truth.readyAt ?? NaN) - (truth.killedAt ?? NaN);
      expect(actual).toBeGreaterThanOrEqual(expected);
      expect(Math.abs((rto ?? 0) - actual)).toBeLessThanOrEqual(100);
      if (process.env['DEBUG_KUBE']) console.log({ rto, actual, expected });
      // Its phases, with their times, in the journal.
      const replacement = events.find((e) => e.type === 'replica.started' && e.detail?.['replaces'] === killed[0]?.target)?.target;
      const phases = events.filter((e) => e.type === 'replica.phase' && e.target === replacement).map((e) => e.detail?.['phase']);
      expect(phases).toEqual(['Pending', 'ContainerCreating', 'Running', 'Ready']);
      // Traffic went through the port-forward, and the load was served.
      expect(events.some((e) => e.type === 'kube.traffic' && e.detail?.['via'] === 'port-forward')).toBe(true);
      expect(outcome.load?.completed ?? 0).toBeGreaterThan(300);
      expect(events.filter((e) => e.type === 'portforward.broken')).toEqual([]);
      expect(dropped).toBeGreaterThan(0);
      expect(events.some((e) => e.type === 'watch.dropped' && e.target === 'pods')).toBe(true);
      // Sampled through the cluster: memory (metrics API) per pod, once a second.
      expect(events.some((e) => e.type === 'kube.metrics-api-absent')).toBe(false);
      expect(analysis.resources?.series.some((s) => /rss/.test(s.resource) && s.points.some(([, v]) => v > 1_000_000))).toBe(true);
      // Nothing of the run is left in the namespace.
      expect(world.kube.list('podchaos', NAMESPACE)).toEqual([]);
      expect(world.kube.list('pods', NAMESPACE).filter((p) => p.metadata.labels?.['app'] === 'task-api')).toEqual([]);
    } finally {
      undoTruth();
      unset();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await rm(out, { recursive: true, force: true });
    }
  }, 90_000);
});
