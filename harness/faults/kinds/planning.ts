import { z } from 'zod';
import { parseDurationMs } from '../../core/duration.js';
import type { SelectorMode } from '../../scenario/plan.js';
import type { FaultSchemaParts, PlatformShape, Report } from './types.js';

/** Planning and schema helpers the fault kinds share. */

export const ms = (text: string): number => parseDurationMs(text) as number;

/** Chaos Mesh selection modes as the scenario writes them. */
export const selectorMode = z.enum(['one', 'all', 'fixed', 'fixed-percent']);

/** A selector's `value`: a count or a percentage, as a number or a string of digits (as Chaos Mesh takes it). */
export const countValue = (parts: FaultSchemaParts) => z.union([z.string().regex(/^\d+$/, 'a whole number'), parts.nonNegativeInt]);

/** Up to 100 string values under names matching `name`; a bad name is reported at its own path. */
export const namedRecord = (name: RegExp, expected: string, maxValue: number) =>
  z.record(z.string(), z.string().max(maxValue)).superRefine((rec, ctx) => {
    const keys = Object.keys(rec);
    if (keys.length > 100) ctx.addIssue({ code: 'custom', message: 'at most 100 entries', input: rec });
    for (const key of keys) if (!name.test(key)) ctx.addIssue({ code: 'custom', message: expected, path: [key], input: key });
  });

/** Chaos Mesh selector rules: `value` for fixed / fixed-percent only, within range. */
export function selection(mode: SelectorMode, raw: string | number | undefined, path: string, platform: PlatformShape, problem: Report): number | undefined {
  const value = raw === undefined ? undefined : Number(raw);
  if ((mode === 'fixed' || mode === 'fixed-percent') && value === undefined) problem(`${path}.value`, `a value for mode "${mode}"`, 'nothing');
  if ((mode === 'one' || mode === 'all') && value !== undefined) problem(`${path}.value`, `no value for mode "${mode}"`, String(raw));
  if (mode === 'fixed' && value !== undefined && platform.kind === 'local' && (value < 1 || value > platform.replicas)) {
    problem(`${path}.value`, `a count between 1 and the ${platform.replicas} replicas`, String(raw));
  }
  if (mode === 'fixed-percent' && value !== undefined && (value < 1 || value > 100)) problem(`${path}.value`, 'a percentage between 1 and 100', String(raw));
  return value;
}
