/**
 * k6's thresholds from its `--summary-export` file (the legacy format): `metrics.<name>.thresholds`
 * maps each threshold's source to true when it was CROSSED (failed), false when it held. Unlike the
 * JSON output, it includes thresholds on submetrics (`http_req_duration{name:get-item}`).
 */
export function summaryThresholds(text: string): Record<string, Record<string, boolean>> {
  const out: Record<string, Record<string, boolean>> = {};
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return out;
  }
  const metrics = (doc as { metrics?: Record<string, { thresholds?: Record<string, unknown> }> })?.metrics ?? {};
  for (const [name, m] of Object.entries(metrics)) {
    if (!m?.thresholds) continue;
    out[name] = Object.fromEntries(Object.entries(m.thresholds).map(([src, crossed]) => [src, crossed === true]));
  }
  return out;
}
