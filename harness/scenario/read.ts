import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { InputError, type Problem } from '../core/errors.js';
import type { Plan } from './plan.js';
import { problemsFromZod } from './problems.js';
import { looseScenarioSchema, scenarioSchema } from './schema.js';
import { toPlan, type PlanContext } from './to-plan.js';

export type PlanResult = { plan: Plan; problems?: undefined } | { plan?: undefined; problems: Problem[] };

/** Parses and validates scenario text; every problem is reported at once. */
export function planFromText(text: string, ctx: PlanContext): PlanResult {
  const file = ctx.file;
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => ({
        ...(file ? { file } : {}),
        path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '',
        expected: 'valid YAML',
        found: (e.message.split('\n')[0] ?? e.code).replace(/ at line \d+, column \d+:?$/, ''),
      })),
    };
  }
  const input: unknown = doc.toJS();
  const parsed = scenarioSchema.safeParse(input, { reportInput: true });
  if (parsed.success) return toPlan(parsed.data, ctx);
  const problems = problemsFromZod(parsed.error.issues, file);
  // With only unknown keys wrong, the rest is still judged, so every problem is reported at once.
  const loose = looseScenarioSchema.safeParse(input);
  if (loose.success) {
    const rest = toPlan(loose.data, ctx);
    if ('problems' in rest) problems.push(...rest.problems);
  }
  return { problems };
}

export async function planFromFile(file: string, env: PlanContext['env']): Promise<PlanResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'an unreadable file';
    return { problems: [{ file, path: '', expected: 'a readable scenario file', found: code }] };
  }
  return planFromText(text, { file, env });
}

/** The plan of one file, or an InputError carrying all of its problems. */
export async function loadPlan(file: string, env: PlanContext['env']): Promise<Plan> {
  const result = await planFromFile(file, env);
  if (result.problems) throw new InputError(result.problems);
  return result.plan;
}
