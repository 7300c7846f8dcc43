import type { z } from 'zod';
import { describeValue, type Problem } from '../core/errors.js';
import { FAULT_KIND_MODULES } from '../faults/kinds/index.js';

/** Turns zod issues into problems that say where, what was expected and what was found. */
export function problemsFromZod(issues: readonly z.core.$ZodIssue[], file?: string): Problem[] {
  return issues.flatMap((issue) => fromIssue(issue, file));
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc ? `${acc}.${String(key)}` : String(key);
  }, '');
}

function fromIssue(issue: z.core.$ZodIssue, file?: string): Problem[] {
  const path = pathOf(issue.path);
  const input = (issue as { input?: unknown }).input;
  const base = { ...(file ? { file } : {}), path };
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        ...base,
        path: path ? `${path}.${key}` : key,
        expected: 'no such key (unknown keys are rejected)',
        found: `key "${key}"`,
      }));
    case 'invalid_type':
      return [{ ...base, expected: typeof input === 'number' && issue.expected === 'number' ? 'a finite number' : issue.expected, found: describeValue(input) }];
    case 'invalid_value':
      return [{ ...base, expected: `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`, found: describeValue(input) }];
    case 'too_small':
      return [{ ...base, expected: `${issue.inclusive ? '≥' : '>'} ${String(issue.minimum)}${sizeUnit(issue.origin)}`, found: describeValue(input) }];
    case 'too_big':
      return [{ ...base, expected: `${issue.inclusive ? '≤' : '<'} ${String(issue.maximum)}${sizeUnit(issue.origin)}`, found: describeValue(input) }];
    case 'invalid_union':
      if ((issue as { note?: string }).note === 'No matching discriminator' && issue.discriminator) {
        const key = issue.discriminator;
        const found = input && typeof input === 'object' ? (input as Record<string, unknown>)[key] : input;
        return [{ ...base, expected: `one of ${Object.keys(FAULT_KIND_MODULES).map((k) => JSON.stringify(k)).join(', ')}`, found: describeValue(found) }];
      }
      return [{ ...base, expected: unionExpectation(issue), found: describeValue(input) }];
    case 'invalid_format':
      return [{ ...base, expected: issue.format === 'regex' ? issue.message : `a valid ${issue.format}`, found: describeValue(input) }];
    default:
      return [{ ...base, expected: issue.message, found: describeValue(input) }];
  }
}

function sizeUnit(origin: string): string {
  if (origin === 'array') return ' items';
  if (origin === 'string') return ' characters';
  return '';
}

function unionExpectation(issue: z.core.$ZodIssueInvalidUnion): string {
  const options = issue.errors
    .map((branch) => branch[0])
    .filter((i): i is z.core.$ZodIssue => i !== undefined)
    .map((i) => (i.code === 'invalid_type' ? i.expected : i.code === 'invalid_value' ? i.values.map((v) => JSON.stringify(v)).join('|') : 'an object'));
  return options.length > 0 ? `one of: ${[...new Set(options)].join(', ')}` : issue.message;
}
