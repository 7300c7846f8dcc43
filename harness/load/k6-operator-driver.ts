import type { Clock } from '../core/clock.js';
import { HarnessError } from '../core/errors.js';
import type { EventSink } from '../core/journal.js';
import { k6OperatorScript } from '../k6/plan.js';
import { K6PrometheusFeed, type K6PrometheusFeedOptions, type K6PrometheusFeedTotals } from '../k6/prometheus-feed.js';
import { CONFIGMAP_MAX_BYTES, k6TestRun } from '../k6/testrun.js';
import type { K6OperatorResult, K6Plan, K6RunResult } from '../k6/types.js';
import { runSelector } from '../kube/labels.js';
import type { KubernetesPlatformPlan } from '../kube/plan.js';
import type { PrometheusAccess } from '../observe/prometheus-query.js';
import { deleteVerified } from '../platform/kubernetes/chaos.js';
import type { KubeClient, KubeObject } from '../platform/kubernetes/client.js';
import { problemOf, type PodView } from '../platform/kubernetes/pods.js';
import { byKind } from '../platform/kubernetes/resources.js';
import { ResilientWatch } from '../platform/kubernetes/watch.js';
import type { LoadDriver, LoadPlan, LoadRun, LoadSummary, LoadTarget, ResponseSink } from './types.js';

/**
 * gameday's load sent by k6 runners on the cluster, through the k6 operator: the script (the team's,
 * or the workload exported) in a ConfigMap and a TestRun with `parallelism` runner pods
 * (harness/k6/testrun.ts), both labelled with the run. The TestRun's `status.stage` is followed
 * with a watch and journalled (initialization → initialized → created → started → finished, or
 * error); the run's zero is taken when the TestRun is `started` (`prepare` resolves then). While it
 * runs, the runners' samples are read back from Prometheus, where they remote-write them as native
 * histograms, every second (K6PrometheusFeed), and once more after `finished` once the last pushes
 * can have landed. Stopping deletes the TestRun (the operator stops its runners) and the ConfigMap,
 * verified gone.
 */

/** The journal's k6 operator events. */
declare module '../core/journal.js' {
  interface JournalEventTypes {
    /** A TestRun or its ConfigMap created. */
    'k6.applied': { source: 'load'; target: string; detail: { kind: string; name: string; parallelism: number } };
    /** The TestRun's status.stage changed (stamped when the watch saw it). */
    'k6.stage': { source: 'load'; target: string; detail: { stage: string } };
    /** The runner pods the operator created. */
    'k6.runners': { source: 'load'; target: string; detail: { count: number; pods: string } };
    /** TestRun and ConfigMap deleted (verified), or what is left. */
    'k6.deleted': { source: 'load'; target: string; detail: { objects: string; leftovers: string } };
    /** A read of the runners' samples from Prometheus failed while they ran (said once per run of failures; retried). */
    'k6.poll-failed': { source: 'load'; target: string; detail: { error: string } };
    /** What Prometheus held of the runners at the end (the feed's totals). */
    'k6.operator.totals': { source: 'load'; target: string; detail: { parallelism: number; runnerPods: number; runnersReporting: number; outcomes: number; dropped: number; unnamed: string; pushIntervalMs: number; lastStage: string } };
  }
}

/** Where the runners go: the Kubernetes platform's client, namespace and run. */
export interface K6OperatorSite {
  client: KubeClient;
  kube: KubernetesPlatformPlan;
  runId: string;
  /** Tells the platform that objects labelled with the run exist (its teardown then sweeps them). */
  applied(): void;
}

/** The feed of the runners' outcomes from Prometheus (K6PrometheusFeed; tests may stand in their own). */
export interface K6Feed {
  poll(untilWallMs: number): Promise<unknown>;
  totals(): Pick<K6PrometheusFeedTotals, 'runners' | 'outcomes' | 'dropped' | 'unnamed' | 'pushIntervalMs'>;
}
export type K6FeedFactory = (sink: ResponseSink, options: K6PrometheusFeedOptions) => K6Feed;

export interface K6OperatorDriverOptions {
  site: K6OperatorSite;
  prometheus: PrometheusAccess;
  /** Where the runners remote-write, as pods reach it (default: the Prometheus URL + /api/v1/write). */
  remoteWriteUrl?: string;
  journal: EventSink;
  /** The feed (default: K6PrometheusFeed). */
  feed?: K6FeedFactory;
  /** How often the feed is polled while the runners run (default 1 s). */
  pollMs?: number;
}

export interface K6OperatorDriver extends LoadDriver {
  /** Applies ConfigMap and TestRun and resolves when the TestRun is `started` (the run's zero). */
  prepare(signal: AbortSignal): Promise<void>;
  /** Deletes what prepare applied (idempotent): for a run that ends before start(). */
  release(): Promise<void>;
}

/** The k6 operator's stages in which its runners have ended. */
const ENDED = new Set(['stopped', 'finished', 'error']);
const POLL_MS = 1_000;
/** The push interval the TestRun sets (K6_PROMETHEUS_RW_PUSH_INTERVAL), until the feed has measured it. */
const RENDERED_PUSH_MS = 1_000;
const DELETE_VERIFY_MS = 30_000;

export function createK6OperatorDriver(plan: LoadPlan, k6: K6Plan, clock: Clock, options: K6OperatorDriverOptions): K6OperatorDriver {
  const { site, journal } = options;
  const parallelism = k6.operator?.parallelism ?? 1;
  const name = `k6-${site.runId}`;
  const target = `TestRun/${name}`;
  const stages: string[] = [];
  const waiters = new Set<() => void>();
  let watch: ResilientWatch | undefined;
  let watchError: Error | undefined;
  let runnerNames: string[] = [];
  /** The TestRun as last seen: its conditions say why a stage is error. */
  let lastSeen: KubeObject | undefined;
  let created = false;
  let released: Promise<void> | undefined;

  const stage = (): string | undefined => stages.at(-1);
  /** Run-clock time the TestRun was seen finished (or failed, or stopped). */
  let endedAtMs: number | undefined;
  const ended = (): boolean => endedAtMs !== undefined;
  const wake = (): void => {
    for (const w of [...waiters]) w();
  };
  /** Resolves when `done()` holds, the signal aborts, or `ms` passed (false then). */
  const until = (done: () => boolean, ms: number, signal?: AbortSignal): Promise<boolean> =>
    new Promise((resolve) => {
      if (done()) return resolve(true);
      const finish = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
        signal?.removeEventListener('abort', finish);
        resolve(done());
      };
      const check = (): void => {
        if (done()) finish();
      };
      const timer = setTimeout(finish, ms);
      waiters.add(check);
      signal?.addEventListener('abort', finish, { once: true });
    });

  const runnerPods = async (): Promise<PodView[]> => (await site.client.list(byKind('Pod'), `k6_cr=${name},runner=true`)).items as PodView[];
  const noteRunners = async (): Promise<void> => {
    const pods = await runnerPods().catch(() => [] as PodView[]);
    const names = pods.map((p) => p.metadata?.name ?? '').filter(Boolean).sort();
    if (names.length === 0 || names.join(',') === runnerNames.join(',')) return;
    runnerNames = names;
    journal.record({ source: 'load', type: 'k6.runners', target, detail: { count: names.length, pods: names.join(',') } });
  };

  const onTestRun = (_type: string, obj: KubeObject): void => {
    if (obj.metadata?.name !== name) return;
    lastSeen = obj;
    const s = (obj.status as { stage?: string } | undefined)?.stage;
    if (s === undefined || s === stage()) return;
    stages.push(s);
    if (ENDED.has(s)) endedAtMs ??= clock.now();
    journal.record({ source: 'load', type: 'k6.stage', target, detail: { stage: s } });
    if (s === 'created' || s === 'started') void noteRunners();
    wake();
  };

  const release = (): Promise<void> =>
    (released ??= (async () => {
      watch?.stop();
      if (!created) return;
      const deleted: string[] = [];
      const left: string[] = [];
      // The TestRun first: the operator stops its runners (their pods go with it); then the script.
      for (const [kind, n] of [['TestRun', name], ['ConfigMap', name]] as const) {
        const leftover = await deleteVerified(site.client, byKind(kind), n, DELETE_VERIFY_MS, clock).catch((err: Error) => `${kind} ${n}: ${err.message}`);
        if (leftover) left.push(leftover);
        else deleted.push(`${kind}/${n}`);
      }
      journal.record({ source: 'load', type: 'k6.deleted', target, detail: { objects: deleted.join(','), leftovers: left.join('; ') } });
    })());

  const prepare = async (signal: AbortSignal): Promise<void> => {
    const script = k6OperatorScript(plan, k6);
    const bytes = Buffer.byteLength(script);
    if (bytes > CONFIGMAP_MAX_BYTES) throw new HarnessError(`the k6 script is ${bytes} bytes: a ConfigMap holds at most 1 MiB (use discover instead of inline pool values)`);
    const rendered = k6TestRun({ name: k6.name }, site.kube, { runId: site.runId, parallelism, prometheusUrl: options.prometheus.url, ...(options.remoteWriteUrl ? { remoteWriteUrl: options.remoteWriteUrl } : {}), script });
    // Asked before anything is created: a cluster without the operator 404s here (errors.ts names it), and nothing is left.
    await site.client.list(byKind('TestRun'), runSelector(site.runId));
    watch = new ResilientWatch(site.client, byKind('TestRun'), onTestRun, {
      labelSelector: runSelector(site.runId),
      journal,
      onFailed: (err) => {
        watchError = err;
        wake();
      },
    });
    await watch.start();
    for (const obj of rendered.objects) {
      signal.throwIfAborted();
      site.applied();
      created = true;
      await site.client.create(obj as KubeObject);
      journal.record({ source: 'load', type: 'k6.applied', target: `${obj.kind}/${obj.metadata.name}`, detail: { kind: obj.kind, name: obj.metadata.name, parallelism } });
    }
    const started = (): boolean => watchError !== undefined || stages.includes('started') || ended();
    const ok = await until(started, site.kube.readyTimeoutMs, signal);
    signal.throwIfAborted();
    if (watchError) throw watchError;
    if (stage() === 'error') throw new HarnessError(`TestRun ${name} reached stage error before it started: ${await podProblems()}`);
    if (!ok) throw new HarnessError(`TestRun ${name} did not start within ${Math.round(site.kube.readyTimeoutMs / 1000)}s (stage ${stage() ?? 'none'}; is the k6 operator running?): ${await podProblems()}`);
    // The runner pods are listed in the background (the started stage asked for them): the zero is now.
  };

  /** Why the runners are not running: the TestRun's conditions, then each runner pod's state. */
  const podProblems = async (): Promise<string> => {
    const conditions = ((lastSeen?.status as { conditions?: { type?: string; status?: string; message?: string }[] } | undefined)?.conditions ?? [])
      .map((c) => `${c.type}=${c.status}${c.message ? ` (${c.message})` : ''}`)
      .join(', ');
    const all = await runnerPods().catch(() => [] as PodView[]);
    // Runners that ended well say nothing about a failure.
    const pods = all.some((p) => p.status?.phase !== 'Succeeded') ? all.filter((p) => p.status?.phase !== 'Succeeded') : all;
    const state = pods.length === 0 ? 'no runner pod' : pods.map((p) => problemOf(p) ?? `pod ${p.metadata?.name ?? '?'} is ${p.status?.phase ?? 'Pending'}`).join('; ');
    return conditions ? `conditions ${conditions}; ${state}` : state;
  };

  return {
    prepare,
    release,
    start(loadTarget: LoadTarget, sink: ResponseSink, signal: AbortSignal): LoadRun {
      // The runners open their own connections: any opened ahead are not used.
      loadTarget.warm?.close();
      const stopped = new AbortController();
      let stoppedByGameday = false;
      const stop = (): void => {
        if (stopped.signal.aborted) return;
        stoppedByGameday = !ended();
        stopped.abort();
      };
      const onAbort = (): void => stop();
      signal.addEventListener('abort', onAbort, { once: true });
      const done = (async (): Promise<LoadSummary> => {
        try {
          const feedOptions: K6PrometheusFeedOptions = {
            prometheus: options.prometheus,
            testId: site.runId,
            opsByName: new Map(plan.workload.requests.map((r, i) => [r.name, i])),
            zeroWallMs: clock.wallMs(0),
            pushIntervalMs: RENDERED_PUSH_MS,
          };
          const feed = options.feed ? options.feed(sink, feedOptions) : new K6PrometheusFeed(sink, feedOptions);
          const pollMs = options.pollMs ?? POLL_MS;
          let failedPolls = 0;
          while (!stopped.signal.aborted && !signal.aborted) {
            // A poll that fails while the runners run is said and retried; the last one must succeed.
            await feed.poll(clock.wallMs(clock.now())).then(
              () => (failedPolls = 0),
              (err: Error) => {
                if (failedPolls++ === 0) journal.record({ source: 'load', type: 'k6.poll-failed', target, detail: { error: err.message } });
              },
            );
            await until(() => stopped.signal.aborted, pollMs, signal);
          }
          const pushMs = feed.totals().pushIntervalMs ?? RENDERED_PUSH_MS;
          // At the run's end the runners finish by themselves (the script lasts the run, plus its
          // gracefulStop): waited for, bounded. The abort guard or Ctrl-C stops them now.
          const early = signal.aborted || clock.now() < k6.durationMs - pollMs;
          if (!early) await until(ended, plan.timeoutMs + 2 * pushMs + 5_000, signal);
          // The last pushes land within a push interval of the runners' end: up to two after it are waited for.
          if (!signal.aborted && endedAtMs !== undefined) await until(() => false, endedAtMs + 2 * pushMs - clock.now(), signal);
          if (!signal.aborted) await feed.poll(clock.wallMs(clock.now()));
          await noteRunners();
          const t = feed.totals();
          const result: K6OperatorResult = { testRun: name, parallelism, runnerPods: runnerNames.length, runnersReporting: t.runners, pushIntervalMs: pushMs, lastStage: stage() ?? 'none' };
          const unnamed = t.unnamed;
          journal.record({
            source: 'load',
            type: 'k6.operator.totals',
            target,
            detail: { parallelism, runnerPods: result.runnerPods, runnersReporting: t.runners, outcomes: t.outcomes, dropped: t.dropped, unnamed: Object.entries(unnamed).map(([k, v]) => `${k}=${v}`).join(', '), pushIntervalMs: pushMs, lastStage: result.lastStage },
          });
          const failed = stage() === 'error';
          const failure = failed ? await podProblems() : '';
          await release();
          if (failed) throw new HarnessError(`TestRun ${name} ended in stage error (a runner failed): ${failure}`);
          const k6Result: K6RunResult = { exitCode: null, signal: null, stoppedByGameday, thresholds: {}, unnamed, badLines: 0, operator: result };
          return { sent: t.outcomes, completed: t.outcomes, dropped: t.dropped, acknowledgedWrites: [], skipped: {}, k6: k6Result };
        } finally {
          signal.removeEventListener('abort', onAbort);
          await release();
        }
      })();
      return { done, stop };
    },
  };
}
