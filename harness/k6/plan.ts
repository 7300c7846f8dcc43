import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDurationMs } from '../core/duration.js';
import type { LoadPlan } from '../load/types.js';
import type { ScenarioDocument } from '../scenario/schema.js';
import { findK6 } from './binary.js';
import { exportK6Script } from './export.js';

type Report = (path: string, expected: string, found: string) => void;

/**
 * spec.load.driver and spec.load.script on a load plan. With `driver: k6` the k6 executable is
 * found now (K6_BIN, else PATH), not when the run starts, so that a missing one is a problem and
 * nothing is started; `gameday validate` (secrets not required) does not ask for it. The script is
 * relative to the scenario file; without one the workload must be exportable (export.ts).
 */
export function withK6(load: LoadPlan, doc: ScenarioDocument, ctx: { file?: string; env: Readonly<Record<string, string | undefined>>; secretsRequired?: boolean }, problem: Report): LoadPlan {
  const { driver, script } = doc.spec.load;
  if (driver !== 'k6') {
    if (script !== undefined) problem('spec.load.script', 'no script unless spec.load.driver is k6', JSON.stringify(script));
    return load;
  }
  let bin = 'k6';
  if (ctx.secretsRequired !== false) {
    const found = findK6(ctx.env);
    if ('problem' in found) {
      const [where, rest] = found.problem.split(/: (.*)/s) as [string, string];
      const [expected, foundText] = rest.replace(/^expected /, '').split(/, found (.*)/s) as [string, string];
      problem(where, expected, foundText);
    } else bin = found.bin;
  }
  const durationMs = parseDurationMs(doc.spec.duration) ?? 0;
  const common = { bin, name: doc.metadata.name, durationMs };
  if (script !== undefined) {
    const path = resolve(ctx.file ? dirname(resolve(ctx.file)) : process.cwd(), script);
    if (!existsSync(path) || !statSync(path).isFile()) problem('spec.load.script', 'a k6 script file (relative to the scenario file)', `${JSON.stringify(script)} (no such file: ${path})`);
    return { ...load, k6: { ...common, script: path } };
  }
  const exported = exportK6Script({ name: doc.metadata.name, durationMs, load, checks: [], phases: [] });
  for (const p of exported.problems) problem(p.path, p.expected, `${p.found}${p.message ? ` (${p.message})` : ''}`);
  return { ...load, k6: common };
}
