import { ExitCode } from './exit-codes.js';

/** One problem found in an input: where, what was expected, what was found. */
export interface Problem {
  file?: string;
  path: string;
  expected: string;
  found: string;
  message?: string;
}

export function formatProblem(p: Problem): string {
  const where = p.file ? `${p.file}: ${p.path || '(root)'}` : p.path || '(root)';
  const detail = p.message ? ` (${p.message})` : '';
  return `${where}: expected ${p.expected}, found ${p.found}${detail}`;
}

/** Bad input: reported whole, before anything starts. */
export class InputError extends Error {
  readonly exitCode = ExitCode.InvalidInput;
  constructor(readonly problems: Problem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'InputError';
  }
}

/** The harness or its environment failed (a process would not start, a port was taken...). */
export class HarnessError extends Error {
  readonly exitCode = ExitCode.HarnessError;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HarnessError';
  }
}

export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  return `${typeof v} ${String(v)}`;
}
