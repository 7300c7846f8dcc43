import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDurationMs } from '../core/duration.js';
import type { LoadPlan } from '../load/types.js';
import type { K6Plan } from './types.js';
import type { ScenarioDocument } from '../scenario/schema.js';
import { findK6 } from './binary.js';
import { exportK6Script } from './export.js';
import { CONFIGMAP_MAX_BYTES } from './testrun.js';

type Report = (path: string, expected: string, found: string) => void;

/**
 * spec.load.driver and spec.load.script on a load plan. With `driver: k6` the k6 executable is
 * found now (K6_BIN, else PATH), not when the run starts, so that a missing one is a problem and
 * nothing is started; `gameday validate` (secrets not required) does not ask for it. The script is
 * relative to the scenario file; without one the workload must be exportable (export.ts).
 */
export function withK6(
  load: LoadPlan,
  doc: ScenarioDocument,
  ctx: { file?: string; env: Readonly<Record<string, string | undefined>>; secretsRequired?: boolean; k6Parallelism?: number },
  problem: Report,
): LoadPlan {
  const { driver, script } = doc.spec.load;
  const parallelism = ctx.k6Parallelism ?? doc.spec.load.parallelism;
  const parallelismPath = ctx.k6Parallelism !== undefined ? '--parallelism' : 'spec.load.parallelism';
  if (driver !== 'k6') {
    if (script !== undefined) problem('spec.load.script', 'no script unless spec.load.driver is k6', JSON.stringify(script));
    if (parallelism !== undefined) problem(parallelismPath, 'runners of the k6 operator only with spec.load.driver: k6', `spec.load.driver ${driver ?? 'gameday'} (parallelism ${parallelism})`);
    return load;
  }
  let bin = 'k6';
  // The k6 operator's runners run k6 on the cluster: no executable is needed here.
  if (ctx.secretsRequired !== false && parallelism === undefined) {
    const found = findK6(ctx.env);
    if ('problem' in found) {
      const [where, rest] = found.problem.split(/: (.*)/s) as [string, string];
      const [expected, foundText] = rest.replace(/^expected /, '').split(/, found (.*)/s) as [string, string];
      problem(where, expected, foundText);
    } else bin = found.bin;
  }
  const durationMs = parseDurationMs(doc.spec.duration) ?? 0;
  const common = { bin, name: doc.metadata.name, durationMs, ...(parallelism !== undefined ? { operator: { parallelism } } : {}) };
  if (script !== undefined) {
    const path = resolve(ctx.file ? dirname(resolve(ctx.file)) : process.cwd(), script);
    if (!existsSync(path) || !statSync(path).isFile()) problem('spec.load.script', 'a k6 script file (relative to the scenario file)', `${JSON.stringify(script)} (no such file: ${path})`);
    else if (parallelism !== undefined) configMapFits('spec.load.script', statSync(path).size, problem);
    return { ...load, k6: { ...common, script: path } };
  }
  const exported = exportK6Script({ name: doc.metadata.name, durationMs, load, checks: [], phases: [] });
  for (const p of exported.problems) problem(p.path, p.expected, `${p.found}${p.message ? ` (${p.message})` : ''}`);
  if (parallelism !== undefined) configMapFits('spec.workload', Buffer.byteLength(exported.script), problem);
  return { ...load, k6: common };
}

/** The k6 operator's runners read the script from a ConfigMap, which holds at most 1 MiB. */
function configMapFits(path: string, bytes: number, problem: Report): void {
  if (bytes > CONFIGMAP_MAX_BYTES) problem(path, 'a k6 script of at most 1 MiB for the runners\' ConfigMap (inline pool values: use discover instead)', `${bytes} bytes`);
}

/**
 * A k6 operator run (spec.load.parallelism or --parallelism) needs the Kubernetes platform and a
 * Prometheus: the runners remote-write to it and the verdict is read from it (the runners' merged
 * histograms); nothing else sees the runners' samples.
 */
export function k6OperatorProblems(load: LoadPlan, platformKind: string, prometheusUrl: string | undefined, fromFlag: boolean, problem: Report): void {
  const parallelism = load.k6?.operator?.parallelism;
  if (parallelism === undefined) return;
  const where = fromFlag ? '--parallelism' : 'spec.load.parallelism';
  if (platformKind !== 'kubernetes') problem(where, 'the kubernetes platform for k6 operator runners (spec.platform.kubernetes, or --platform kubernetes)', `the ${platformKind} platform (parallelism ${parallelism})`);
  if (prometheusUrl === undefined) {
    problem('spec.observe.prometheus.url', `the cluster's Prometheus with its remote-write receiver and native histograms (or --prometheus <url>): the ${parallelism} runners write to it and the run is judged from it`, 'nothing');
  }
}

/** The script the k6 operator's runners run: the team's file, or the workload exported (its checks are gameday's to judge). */
export function k6OperatorScript(load: LoadPlan, k6: K6Plan): string {
  return k6.script !== undefined ? readFileSync(k6.script, 'utf8') : exportK6Script({ name: k6.name, durationMs: k6.durationMs, load, checks: [], phases: [] }).script;
}
