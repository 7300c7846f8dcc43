import { z } from 'zod';
import { formatDuration, parseDurationMs } from '../core/duration.js';
import { canonicalHost } from '../core/loopback.js';
import { OPERATION_NAMES } from '../load/types.js';
import { DEFAULT_RUN_LIMITS, DURATION_BOUNDS, MAX_RAMP_STAGES, MAX_RATE } from './limits.js';
import { PHASE_NAMES, RESOURCE_NAMES } from './plan.js';
import { kubernetesPlatformSchema } from '../kube/schema.js';
import { faultDocuments } from '../faults/kinds/index.js';
import { CONFORMANCE_METRICS } from '../conformance/types.js';

/**
 * The scenario file as written: Kubernetes-style (apiVersion, kind, metadata, spec), strict
 * (unknown keys are errors), durations as Go-style strings. Cross-field rules live in to-plan.ts.
 */

export const API_VERSION = 'gameday.dev/v1alpha1';

/** A Go-style duration string within its field's bounds; the expectation names both. */
function duration(bounds: { min: number; max: number }, note = '') {
  const message = `a duration such as "500ms", "30s" or "1m30s", from ${formatDuration(bounds.min)} to ${formatDuration(bounds.max)}${note}`;
  return z.string().refine(
    (s) => {
      const ms = parseDurationMs(s);
      return ms !== undefined && ms >= bounds.min && ms <= bounds.max;
    },
    { message },
  );
}
const B = DURATION_BOUNDS;

const positiveInt = z.number().int().min(1);
const dnsLabel = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS-1123 label (lowercase letters, digits, -)');
const nonNegativeInt = z.number().int().min(0);

type ObjectFactory = typeof z.strictObject;

/**
 * The schema, built two ways: strict (unknown keys are problems; what validation uses) and loose
 * (unknown keys dropped), so that the cross-field rules can still run and report their problems
 * alongside a mere unknown key, and every problem is reported at once.
 */
function buildSchema(obj: ObjectFactory) {
  const probe = obj({
    initialDelay: duration(B.probeInitialDelay).default('0s'),
    period: duration(B.probePeriod).default('500ms'),
    timeout: duration(B.probeTimeout).default('1s'),
    failureThreshold: positiveInt.default(1),
    successThreshold: positiveInt.default(1),
  });

  const database = z.union([z.literal('embedded'), obj({ url: z.string().min(1) })]);

  /** Any HTTP service as the replicas; PORT (and DATABASE_URL with database: true) set per replica. */
  const app = obj({
    /** Replica names are `<name>-<hash>-<suffix>`. */
    name: dnsLabel.max(40).default('app'),
    /** argv, no shell; `node` as the first word is the Node.js running gameday. */
    command: z.array(z.string().min(1).max(4096)).min(1).max(256),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'), z.string().max(16_384))
      .refine((e) => Object.keys(e).length <= 100, { message: 'at most 100 variables' })
      .default({}),
    /** Relative to the scenario file's directory (default: that directory). */
    workingDir: z.string().min(1).max(4096).optional(),
    readinessPath: z.string().max(2048).regex(/^\/[\x21-\x7e]*$/, 'a path starting with / (printable ASCII, no spaces)').default('/health'),
    database: z.boolean().default(false),
  });

  const localPlatform = obj({
    replicas: positiveInt.max(32).default(3),
    app: app.optional(),
    database: database.default('embedded'),
    readinessProbe: probe.default(probe.parse({})),
    /** Like a pod's livenessProbe: a replica failing it `failureThreshold` times is restarted. Off unless given. */
    livenessProbe: probe.optional(),
    pool: z
      .strictObject({
        size: positiveInt.max(1000).default(10),
        acquireTimeout: duration(B.poolTimeout).default('2s'),
        statementTimeout: duration(B.poolTimeout).default('5s'),
      })
      .default({ size: 10, acquireTimeout: '2s', statementTimeout: '5s' }),
    seedRows: nonNegativeInt.max(1_000_000).default(10_000),
    terminationGracePeriod: duration(B.terminationGracePeriod).default('10s'),
  });

  const mix = z
    .partialRecord(z.enum(OPERATION_NAMES as [string, ...string[]]), z.number().min(0).max(1_000_000))
    .refine((m) => Object.values(m).some((w) => (w ?? 0) > 0), { message: 'at least one operation with weight > 0' });

  const load = obj({
    model: z.enum(['closed', 'open', 'ramping']).default('closed'),
    connections: positiveInt.max(10_000).default(16),
    rate: z.number().positive().max(MAX_RATE).optional(),
    /** ramping (k6's ramping-arrival-rate, per second): the rate at the start, then linear to each stage's `to` over its `over`. */
    startRate: z.number().min(0).max(MAX_RATE).optional(),
    stages: z.array(obj({ to: z.number().min(0).max(MAX_RATE), over: duration(B.rampStage) })).min(1).max(MAX_RAMP_STAGES).optional(),
    maxInFlight: positiveInt.max(100_000).optional(),
    timeout: duration(B.requestTimeout).default('5s'),
    /** Weights of the Task API preset's requests (get, create, update, list, delete); default 80/10/5/5/0. */
    mix: mix.optional(),
    seed: nonNegativeInt.default(1),
    /** Who sends the load: gameday itself (default) or k6 (harness/k6), with `script` or the exported workload. */
    driver: z.enum(['gameday', 'k6']).optional(),
    /** driver k6: the team's k6 script, relative to the scenario file (absent: the workload exported as a script). */
    script: z.string().min(1).max(4096).optional(),
    /** driver k6 on the Kubernetes platform: this many k6 operator runner pods (a TestRun); --parallelism overrides it. */
    parallelism: positiveInt.max(1000).optional(),
  });

  /** A bare word usable in templates ({{pick orderIds}}). */
  const poolName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'a name of letters, digits and _ (not starting with a digit)');
  const pointer = z.string().max(512);
  const template = z.string().max(65_536);
  const pool = obj({
    /** Read before the run from a paged list endpoint of the target. */
    discover: obj({
      path: z.string().min(1).max(2048).startsWith('/', 'a path starting with "/"'),
      items: pointer,
      next: pointer.optional(),
      cursorParam: z.string().min(1).max(64).default('cursor'),
      max: positiveInt.max(1_000_000).default(100_000),
      /** Request headers (templates; `{{env NAME}}` for credentials). */
      headers: z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'an HTTP header name'), template).optional(),
    }).optional(),
    /** A CSV (with a header row) or JSON data file next to the scenario. */
    file: z.string().min(1).max(4096).optional(),
    /** The CSV column, or the field of the JSON file's objects; a single-column CSV or a JSON array of values needs none. */
    column: z.string().min(1).max(256).optional(),
    values: z.array(z.string().max(4096)).max(100_000).optional(),
    capacity: positiveInt.max(1_000_000).default(100_000),
  });
  const request = obj({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'a name of letters, digits, ".", "_" and "-"'),
    weight: z.number().min(0).max(1_000_000).default(1),
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET'),
    path: template,
    headers: z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'an HTTP header name'), template).optional(),
    body: template.optional(),
    expect: obj({ status: z.array(z.number().int().min(100).max(599)).min(1).max(50) }).optional(),
    /** Values captured from a successful response into pools: pool → JSON Pointer. */
    capture: z.record(poolName, pointer).optional(),
    /**
     * A write to verify after the run (durability): create takes its id from the response (`id`, a
     * JSON Pointer), update/delete from the first value the path picked. `read` is the path that GETs
     * the entity back (`{id}` replaced by its id), `fields` what must equal the acknowledged response.
     */
    write: obj({
      op: z.enum(['create', 'update', 'delete']),
      id: pointer.optional(),
      read: z.string().min(1).max(2048).optional(),
      fields: z.array(z.string().min(1).max(512)).min(1).max(50).optional(),
    }).optional(),
  });
  const workload = obj({
    preset: z.enum(['task-api']).optional(),
    pools: z.record(poolName, pool).optional(),
    requests: z.array(request).min(1).max(200).optional(),
  });

  /** A discriminated union on `kind`: each fault kind's module (faults/kinds) brings its document. */
  const fault = z.discriminatedUnion('kind', faultDocuments({ obj, duration, dnsLabel, positiveInt, nonNegativeInt }));

  /** A bare host, as `URL.hostname` would hold it: no scheme, port, path or wildcard. */
  const allowHost = z.string().max(253).refine((h) => canonicalHost(h) !== undefined, { message: 'a host name or IP address (no scheme, port, path or wildcard), such as orders.staging.example.com' });
  const pemFile = z.string().min(1).max(4096);

  const metric = z.enum([
    'rto.platform',
    'rto.client',
    'requests.status5xx',
    'requests.transportErrors',
    'requests.dropped',
    'requests.failures',
    'requests.failureRatio',
    'requests.unexpected',
    'latency.p50',
    'latency.p95',
    'latency.p99',
    'latency.max',
    'throughput.rps',
    'resources.recoveryTime',
    'resources.leaked',
    'durability.lostWrites',
    'durability.lostOutsideRpo',
    'rto.restore',
    'rpo.span',
    'rpo.lostWrites',
    'promql',
    ...CONFORMANCE_METRICS,
  ]);

  const percent = z.string().max(12).regex(/^\d+(\.\d+)?%$/, 'a percentage such as "20%"');
  const msTolerance = obj({ relative: percent.optional(), absolute: duration(B.regressionAbsolute).optional() });
  const countTolerance = obj({ relative: percent.optional(), absolute: nonNegativeInt.optional() });
  /** Regression-gate tolerances (gameday compare / run --baseline); omitted ones take defaults. */
  const regression = obj({
    latencyP95: msTolerance.optional(),
    latencyP99: msTolerance.optional(),
    rtoClient: msTolerance.optional(),
    rtoPlatform: msTolerance.optional(),
    failures: countTolerance.optional(),
    resourceRecovery: msTolerance.optional(),
    confidence: z.number().min(0.5).max(0.999).optional(),
  });

  const check = obj({
    id: z.string().min(1).max(64),
    name: z.string().min(1).max(200),
    metric,
    during: z.array(z.enum(PHASE_NAMES as [string, ...string[]])).min(1).optional(),
    /** For resources.* metrics: which resource (default: the worst of them). */
    resource: z.enum(RESOURCE_NAMES).optional(),
    /** Judge only this fault's spans (and its RTO). */
    fault: dnsLabel.optional(),
    /** Request and latency metrics: judge only this workload request (its name). */
    request: z.string().min(1).max(64).optional(),
    /** metric promql: the expression ($__window: the phase window's length), parsed at validation. */
    query: z.string().min(1).max(4000).optional(),
    target: z.string().min(1).max(64),
  });

  /** A share written as a percentage: "0.1%", "99%". */
  const share = z.string().max(12).regex(/^\d+(\.\d+)?%$/, 'a percentage such as "1%"');
  const rate = z.number().positive().max(MAX_RATE);
  /** `gameday capacity`: steps of the open model's rate until the SLO breaks (see harness/capacity). */
  const capacity = obj({
    startRate: rate,
    stepRate: rate,
    maxRate: rate,
    stepDuration: duration({ min: 1_000, max: 600_000 }).default('5s'),
    /** The start of each step not judged (connections open, queues settle). */
    settle: duration({ min: 0, max: 60_000 }).default('1s'),
    /** Bound on the whole command (every search, mass termination, deploys). */
    maxDuration: duration({ min: 10_000, max: 3_600_000 }).default('10m'),
    /** Bisections between the last good and the first bad step. */
    refine: nonNegativeInt.max(6).default(2),
    slo: obj({
      /** Default: spec.slo.latencyP95. */
      latencyP95: duration(B.slo).optional(),
      failureRatio: share.default('0.1%'),
      achieved: share.default('99%'),
    }).default({ failureRatio: '0.1%', achieved: '99%' }),
    /** The peak traffic to plan for: 300 or "300/s". */
    peak: z.union([rate, z.string().max(24).regex(/^\d+(\.\d+)?\/s$/, 'a rate such as "300/s"')]).optional(),
    /** Searches besides N replicas: one replica fewer, and each named spec.faults entry active for a whole search. */
    variants: obj({ nMinusOne: z.boolean().default(true), faults: z.array(dnsLabel).max(10).default([]) }).default({ nMinusOne: true, faults: [] }),
    massTermination: obj({
      /** The load while replicas are killed, as a share of the measured knee. */
      load: share.default('50%'),
      mode: z.enum(['all', 'fixed-percent']).default('all'),
      /** fixed-percent: the share of replicas killed. */
      percent: z.number().gt(0).max(100).optional(),
      before: duration({ min: 1_000, max: 60_000 }).default('3s'),
      /** How long recovery is watched at most. */
      observe: duration({ min: 2_000, max: 600_000 }).default('30s'),
    }).optional(),
    /** The forecast: replicas lost at once that the peak must survive. */
    forecastLoss: positiveInt.max(32).default(1),
    /** The regression gate: a knee lower than the baseline's by more than this share regresses. */
    tolerance: share.default('10%'),
  });

  /** What the conformance.* checks read (manifests or the cluster) and expect (the seed's values by default). */
  const labelMap = z.record(z.string().min(1).max(63), z.string().max(63)).refine((m) => Object.keys(m).length <= 20, { message: 'at most 20 labels' });
  const goDuration = z.string().max(32).refine((s) => parseDurationMs(s) !== undefined, { message: 'a duration such as "720h"' });
  const conformance = obj({
    /** static: the manifests; live: the cluster (default: live on the kubernetes platform, else static). */
    mode: z.enum(['static', 'live']).optional(),
    /** Files or directories, relative to the scenario (default: fixtures/manifests, the Kubernetes platform's templates). */
    manifests: z.array(z.string().min(1).max(4096)).min(1).max(100).optional(),
    namespace: dnsLabel.optional(),
    deployment: dnsLabel.default('task-api'),
    labels: labelMap.optional(),
    databaseLabels: labelMap.optional(),
    backup: obj({
      schedule: z.string().min(9).max(100).optional(),
      ttl: goDuration.optional(),
      excludedResources: z.array(z.string().min(1).max(253)).max(50).optional(),
      veleroNamespace: dnsLabel.optional(),
    }).optional(),
    opencost: obj({ url: z.url().max(4096), window: z.string().regex(/^\d+[mhd]$/, 'an OpenCost window such as "1d", "24h" or "30m"').default('1d') }).optional(),
  });

  return obj({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal('Scenario'),
    metadata: obj({
      name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS-1123 label (lowercase letters, digits, -)'),
      description: z.string().max(4096).optional(),
      labels: z.record(z.string(), z.string()).optional(),
    }),
    spec: obj({
      duration: duration(B.run, ` (over ${formatDuration(DEFAULT_RUN_LIMITS.durationMs)} only with spec.limits.duration)`),
      warmup: duration(B.warmup).default('3s'),
      /** local (the default) or kubernetes (harness/kube/schema.ts); a file with both runs locally unless --platform kubernetes. */
      platform: obj({ local: localPlatform.optional(), kubernetes: kubernetesPlatformSchema(obj).optional() }).optional(),
      target: obj({
        url: z.url().max(4096),
        /** Non-loopback hosts this scenario may send to (exact, case-insensitive); --allow-host adds more. */
        allowHosts: z.array(allowHost).max(100).optional(),
        /** https: trust `ca` instead of the system CAs, present a client certificate; files relative to the scenario. */
        tls: obj({
          ca: pemFile.optional(),
          cert: pemFile.optional(),
          key: pemFile.optional(),
          serverName: z.string().max(253).regex(/^(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i, 'a DNS name such as orders.staging.example.com').optional(),
        }).optional(),
      }).optional(),
      /** The servers' view from an existing Prometheus (a cluster's) instead of one the platform starts. */
      observe: obj({
        prometheus: obj({
          /** http(s); its host is loopback or allowed like spec.target's (spec.target.allowHosts / --allow-host). */
          url: z.url().max(4096),
          /** The environment variable holding a bearer token, sent as Authorization: Bearer. */
          bearerTokenEnv: z.string().max(128).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
          /** Label matchers added to the seed's queries, such as '{namespace="staging"}'. */
          selector: z.string().min(2).max(1000).optional(),
          /**
           * k6 operator runs: the remote-write URL the runners send to, as the cluster's pods reach it
           * (e.g. http://prometheus-operated.monitoring.svc:9090/api/v1/write); default: url + /api/v1/write.
           */
          remoteWriteUrl: z.url().max(4096).optional(),
          /**
           * https: trust `ca` (a private CA) instead of the system CAs; present `cert` and `key` to a
           * Prometheus that asks for a client certificate (mTLS); files relative to the scenario;
           * `serverName` checked instead of the URL's host.
           */
          tls: obj({
            ca: pemFile.optional(),
            cert: pemFile.optional(),
            key: pemFile.optional(),
            serverName: z.string().max(253).regex(/^(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i, 'a DNS name such as prometheus.staging.example.com').optional(),
          }).optional(),
        }),
      }).optional(),
      load: load.default(load.parse({})),
      workload: workload.optional(),
      faults: z.array(fault).max(100).default([]),
      slo: obj({ latencyP95: duration(B.slo).default('500ms') }).default({ latencyP95: '500ms' }),
      recovery: z
        .strictObject({ window: duration(B.recoveryWindow).default('10s'), sustain: duration(B.recoverySustain).default('3s') })
        .default({ window: '10s', sustain: '3s' }),
      regression: regression.optional(),
      /** The explicit opt-in to a run longer than an hour or a rate above 10 000/s (see limits.ts). */
      limits: obj({ duration: duration(B.run).optional(), rate: z.number().positive().max(MAX_RATE).optional() }).optional(),
      /** Abort guard: stop the run (recovering every fault) when failures stay this high this long. */
    abort: obj({ failureRatio: z.number().gt(0).max(1), for: duration(B.abortFor) }).optional(),
    /** Resource recovery: how close to the pre-fault baseline counts as recovered, and for how long. */
    resources: obj({
      /** One tolerance for every resource; absent: each resource's own default. */
      tolerance: obj({ relative: z.number().min(0).max(10), absolute: z.number().min(0) }).optional(),
      sustain: duration(B.resourceSustain).default('3s'),
    }).optional(),
    checks: z.array(check).max(200).optional(),
    conformance: conformance.optional(),
    /** gameday capacity: the knee search, its variants, mass termination and the forecast (harness/capacity). */
    capacity: capacity.optional(),
    }),
  });
}

export const scenarioSchema = buildSchema(z.strictObject);
export const looseScenarioSchema = buildSchema(z.object as unknown as ObjectFactory);

/** A local platform with every default filled in (a scenario that names no platform gets this). */
export function defaultLocalPlatform(): NonNullable<NonNullable<ScenarioDocument['spec']['platform']>['local']> {
  return scenarioSchema.shape.spec.shape.platform.unwrap().shape.local.unwrap().parse({});
}

export type ScenarioDocument = z.infer<typeof scenarioSchema>;
export type FaultDocument = ScenarioDocument['spec']['faults'][number];
export type RegressionDocument = NonNullable<ScenarioDocument['spec']['regression']>;
export type WorkloadDocument = NonNullable<ScenarioDocument['spec']['workload']>;
export type CheckDocument = NonNullable<ScenarioDocument['spec']['checks']>[number];
