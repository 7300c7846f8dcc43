/**
 * Durations in scenario files are Go/Kubernetes-style strings ("500ms", "30s", "1m30s"), as in
 * Chaos Mesh's `duration`. They are parsed once at the edge; everything inside works in ms.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)/;
/** Longer text is not a duration anyone writes; refusing it keeps parsing cheap whatever the input. */
const MAX_TEXT = 64;

/** Milliseconds, or undefined for text that is not a duration or whose value is not finite ("1e400s" is neither). */
export function parseDurationMs(text: string): number | undefined {
  let rest = text.trim();
  if (rest === '' || rest.length > MAX_TEXT) return undefined;
  if (rest === '0') return 0;
  let total = 0;
  while (rest.length > 0) {
    const m = DURATION.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    rest = rest.slice(m[0].length);
  }
  return Number.isFinite(total) ? total : undefined;
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (Math.abs(ms) < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  return `${s < 10 ? s.toFixed(2) : s.toFixed(1)}s`;
}

/** A whole number of ms as the scenario would write it: 3600000 → "1h", 90000 → "1m30s", 100 → "100ms". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0 || !Number.isInteger(ms)) return formatMs(ms);
  if (ms === 0) return '0s';
  let rest = ms;
  let text = '';
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) text += `${n}${unit}`;
    rest -= n * size;
  }
  return text;
}
