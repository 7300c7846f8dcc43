// A simulated k6 operator (grafana/k6-operator) for the TestRun kind (k6.io/v1alpha1): the stages
// initialization → initialized → created → started → finished (or error) in `status.stage`, runner
// pods `<name>-<i>` (i = 1..parallelism) owned by the TestRun, labelled app=k6, k6_cr=<name>,
// runner=true plus `spec.runner.metadata.labels`, each running `k6 run` with the operator's tags
// (instance_id=i, job_name=<name>-<i>, testrun_name=<name>). A runner pod can be backed by a real
// process the test chooses (`runner`); it gets the TestRun's runner env and the k6 arguments.
// Simplified against the real operator: no initializer/starter Jobs or runner Jobs (pods are the
// TestRun's own dependents), the runners are not started paused; `started` is set once every runner
// pod is Running, `finished` once every runner pod ended (error if one failed).
import { spawn, type ChildProcess } from 'node:child_process';
import type { PodBacking } from './workloads.js';
import type { ResourceDef } from './resources.js';
import { type KubeObject, type Store, type StoreEvent } from './store.js';

/**
 * The fields gameday uses of the upstream CRD (config/crd/bases/k6.io_testruns.yaml in
 * grafana/k6-operator, read there; its runner pod fields are far more): unknown fields are refused
 * (strict), so an object gameday renders with a field the CRD lacks fails here as it would there.
 */
const TESTRUN_SCHEMA = {
  type: 'object',
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      required: ['parallelism', 'script'],
      properties: {
        parallelism: { type: 'integer', format: 'int32' },
        arguments: { type: 'string' },
        cleanup: { type: 'string', enum: ['post'] },
        separate: { type: 'boolean' },
        paused: { type: 'string' },
        quiet: { type: 'string' },
        script: {
          type: 'object',
          properties: {
            configMap: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, file: { type: 'string' } } },
            localFile: { type: 'string' },
          },
        },
        runner: {
          type: 'object',
          properties: {
            image: { type: 'string' },
            metadata: {
              type: 'object',
              properties: {
                labels: { type: 'object', additionalProperties: { type: 'string' } },
                annotations: { type: 'object', additionalProperties: { type: 'string' } },
              },
            },
            env: {
              type: 'array',
              items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, value: { type: 'string' } } },
            },
          },
        },
      },
    },
    status: {
      type: 'object',
      properties: {
        stage: { type: 'string', enum: ['initialization', 'initialized', 'created', 'started', 'stopped', 'finished', 'error'] },
        testRunId: { type: 'string' },
      },
    },
  },
};

/** The TestRun kind as the fake serves it when started with `k6Operator`. */
export const TESTRUN_RESOURCE: ResourceDef = {
  group: 'k6.io',
  version: 'v1alpha1',
  plural: 'testruns',
  singular: 'testrun',
  kind: 'TestRun',
  namespaced: true,
  shortNames: [],
  subresources: ['status'],
  custom: true,
  schema: TESTRUN_SCHEMA,
  printerColumns: [{ name: 'Stage', type: 'string', jsonPath: '.status.stage' }],
  crd: {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'testruns.k6.io' },
    spec: {
      group: 'k6.io',
      names: { kind: 'TestRun', listKind: 'TestRunList', plural: 'testruns', singular: 'testrun' },
      scope: 'Namespaced',
      versions: [{ name: 'v1alpha1', served: true, storage: true }],
    },
    status: { conditions: [{ type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' }] },
  },
};

/** What a runner pod's process is given. */
export interface K6RunnerStart {
  pod: KubeObject;
  /** 1-based, as the operator numbers its runners. */
  index: number;
  parallelism: number;
  /** The TestRun's spec.runner.env (values only). */
  env: Record<string, string>;
  /** `k6 run` arguments as the operator builds them: the script path, spec.arguments, the tags. */
  args: string[];
  /** The script's text from the ConfigMap (as mounted at /test/<file> on a cluster). */
  script: string;
}

export interface K6OperatorOptions {
  /** The process behind each runner pod; absent: runner pods have no process and exit 0 after readyMs. */
  runner?: (start: K6RunnerStart) => { command: string; args: string[]; env?: Record<string, string> };
  /** Delay between stages (default 20 ms). */
  stepMs?: number;
}

type Stage = 'initialization' | 'initialized' | 'created' | 'started' | 'stopped' | 'finished' | 'error';

interface TestRunSpec {
  parallelism: number;
  arguments?: string;
  script: { configMap?: { name: string; file?: string } };
  runner?: { image?: string; metadata?: { labels?: Record<string, string> }; env?: { name: string; value?: string }[] };
}

export class K6Operator {
  /** Every stage written, `<ns>/<name>: <stage>`, in order (assertions). */
  readonly stages: string[] = [];
  /** Runner processes started (for assertions and close()). */
  readonly processes = new Set<ChildProcess>();
  running = true;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly unsubscribe: () => void;
  private readonly pods: ResourceDef;

  constructor(
    private readonly store: Store,
    private readonly options: K6OperatorOptions = {},
  ) {
    this.pods = store.resource('', 'pods');
    this.unsubscribe = store.subscribe((e) => this.onEvent(e));
  }

  close(): void {
    this.running = false;
    this.unsubscribe();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const p of this.processes) p.kill('SIGKILL');
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.running) fn();
    }, ms);
    this.timers.add(t);
  }

  private get step(): number {
    return this.options.stepMs ?? 20;
  }

  private testRun(ns: string | undefined, name: string): KubeObject | undefined {
    const t = this.store.get(TESTRUN_RESOURCE, ns, name);
    return t && t.metadata.deletionTimestamp === undefined ? t : undefined;
  }

  private stageOf(t: KubeObject): Stage | undefined {
    return (t.status as { stage?: Stage } | undefined)?.stage;
  }

  private setStage(t: KubeObject, stage: Stage): void {
    const cur = this.testRun(t.metadata.namespace, t.metadata.name);
    if (!cur || this.stageOf(cur) === stage) return;
    this.stages.push(`${cur.metadata.namespace}/${cur.metadata.name}: ${stage}`);
    this.store.update(this.store.resource('k6.io', 'testruns'), { ...cur, status: { ...(cur.status ?? {}), stage } }, { subresource: 'status', internal: true });
  }

  private runnerPods(t: KubeObject): KubeObject[] {
    return this.store.list(this.pods, t.metadata.namespace).filter((p) => p.metadata.labels?.['k6_cr'] === t.metadata.name && p.metadata.labels?.['runner'] === 'true');
  }

  private onEvent(e: StoreEvent): void {
    if (!this.running) return;
    if (e.resource.group === 'k6.io' && e.resource.plural === 'testruns' && e.type === 'ADDED') {
      const { namespace, name } = e.object.metadata;
      this.later(this.step, () => this.initialize(namespace, name));
      return;
    }
    if (e.resource.plural === 'pods' && e.resource.group === '' && e.object.metadata.labels?.['runner'] === 'true') {
      const cr = e.object.metadata.labels['k6_cr'];
      const t = cr ? this.testRun(e.object.metadata.namespace, cr) : undefined;
      if (t) this.progress(t);
    }
  }

  private initialize(ns: string | undefined, name: string): void {
    const t = this.testRun(ns, name);
    if (!t) return;
    this.setStage(t, 'initialization');
    const spec = t.spec as unknown as TestRunSpec;
    const cmName = spec.script.configMap?.name;
    const cm = cmName ? this.store.get(this.store.resource('', 'configmaps'), ns, cmName) : undefined;
    const file = spec.script.configMap?.file ?? 'test.js';
    const script = (cm?.['data'] as Record<string, string> | undefined)?.[file];
    // The operator's initializer reads the script from the ConfigMap: none there is an error.
    if (script === undefined) {
      this.later(this.step, () => this.setStage(t, 'error'));
      return;
    }
    this.later(this.step, () => {
      if (!this.testRun(ns, name)) return;
      this.setStage(t, 'initialized');
      this.later(this.step, () => this.createRunners(ns, name, file));
    });
  }

  private createRunners(ns: string | undefined, name: string, file: string): void {
    const t = this.testRun(ns, name);
    if (!t) return;
    const spec = t.spec as unknown as TestRunSpec;
    const labels = { ...(spec.runner?.metadata?.labels ?? {}), app: 'k6', k6_cr: name, runner: 'true' };
    for (let i = 1; i <= spec.parallelism; i++) {
      const args = ['run', '--quiet', `/test/${file}`, ...(spec.arguments ? spec.arguments.split(/\s+/).filter(Boolean) : []), '--address=0.0.0.0:6565', '--tag', `instance_id=${i}`, '--tag', `job_name=${name}-${i}`, '--tag', `testrun_name=${name}`];
      this.store.create(this.pods, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${name}-${i}`,
          namespace: ns,
          labels,
          ownerReferences: [{ apiVersion: 'k6.io/v1alpha1', kind: 'TestRun', name, uid: t.metadata.uid!, controller: true, blockOwnerDeletion: true }],
        },
        spec: {
          restartPolicy: 'Never',
          hostname: `${name}-${i}`,
          containers: [{ name: 'k6', image: spec.runner?.image ?? 'grafana/k6:latest', command: ['k6', ...args], env: spec.runner?.env ?? [] }],
        },
        status: { phase: 'Pending' },
      } as KubeObject);
    }
    this.setStage(t, 'created');
  }

  /** started once every runner runs; finished once every runner ended (error when one failed). */
  private progress(t: KubeObject): void {
    const stage = this.stageOf(t);
    if (stage !== 'created' && stage !== 'started') return;
    const spec = t.spec as unknown as TestRunSpec;
    const pods = this.runnerPods(t);
    if (pods.length < spec.parallelism) return;
    const phases = pods.map((p) => (p.status as { phase?: string } | undefined)?.phase ?? 'Pending');
    if (stage === 'created' && phases.every((p) => p === 'Running' || p === 'Succeeded' || p === 'Failed')) this.setStage(t, 'started');
    if (phases.every((p) => p === 'Succeeded' || p === 'Failed')) {
      if (this.stageOf(this.testRun(t.metadata.namespace, t.metadata.name) ?? t) !== 'started') this.setStage(t, 'started');
      this.setStage(t, phases.includes('Failed') ? 'error' : 'finished');
    }
  }

  /** Whether this operator backs the pod (a runner pod of a TestRun). */
  owns(pod: KubeObject): boolean {
    return pod.metadata.labels?.['runner'] === 'true' && pod.metadata.labels['app'] === 'k6' && pod.metadata.labels['k6_cr'] !== undefined;
  }

  /** The process behind a runner pod (the test's command), or none. */
  async backing(pod: KubeObject): Promise<PodBacking | undefined> {
    const make = this.options.runner;
    if (!make) return undefined;
    const name = pod.metadata.labels?.['k6_cr'] ?? '';
    const t = this.testRun(pod.metadata.namespace, name);
    if (!t) return undefined;
    const spec = t.spec as unknown as TestRunSpec;
    const container = (pod.spec as { containers: { command: string[] }[] }).containers[0]!;
    const file = spec.script.configMap?.file ?? 'test.js';
    const cm = spec.script.configMap ? this.store.get(this.store.resource('', 'configmaps'), pod.metadata.namespace, spec.script.configMap.name) : undefined;
    const env = Object.fromEntries((spec.runner?.env ?? []).map((e) => [e.name, e.value ?? '']));
    const index = Number(pod.metadata.name.slice(name.length + 1));
    const how = make({ pod, index, parallelism: spec.parallelism, env, args: container.command.slice(1), script: (cm?.['data'] as Record<string, string> | undefined)?.[file] ?? '' });
    const child = spawn(how.command, how.args, { env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env, ...(how.env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.processes.add(child);
    let log = '';
    const keep = (c: Buffer): void => {
      log = (log + c.toString('utf8')).slice(-65_536);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const exited = new Promise<number>((resolve) => {
      child.once('error', (err) => {
        log += `\n${err.message}`;
        resolve(127);
      });
      child.once('exit', (code, signal) => {
        this.processes.delete(child);
        resolve(code ?? (signal === 'SIGKILL' ? 137 : 143));
      });
    });
    return {
      ports: {},
      exited,
      log: () => log,
      ...(child.pid !== undefined ? { pid: child.pid } : {}),
      stop: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGKILL');
        await exited;
      },
    };
  }
}
