import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { InputError, type Problem } from '../core/errors.js';
import type { Plan } from './plan.js';
import { problemsFromZod } from './problems.js';
import { scenarioSchema } from './schema.js';
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
  const parsed = scenarioSchema.safeParse(doc.toJS(), { reportInput: true });
  if (!parsed.success) return { problems: problemsFromZod(parsed.error.issues, file) };
  return toPlan(parsed.data, ctx);
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
