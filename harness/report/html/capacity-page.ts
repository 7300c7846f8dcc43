import type { CapacityDocument } from '../../capacity/document.js';
import { fmt, pct } from '../../capacity/judge.js';
import { capacityComparisonMarkdown, type CapacityComparison } from '../gate/capacity.js';
import { capacityCharts } from './capacity-charts.js';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const secs = (v: number | null): string => (v === null ? 'not within the watch' : `${fmt(Math.round(v) / 1000)} s`);

function table(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

/** capacity.html: one self-contained page (inline CSS and SVG, no script, no external URL). */
export function renderCapacityHtml(doc: CapacityDocument, comparison?: CapacityComparison): string {
  const parts: string[] = [];
  parts.push(`<h1>Capacity: ${esc(doc.scenario.name)} <small>(${esc(doc.status)})</small></h1>`);
  if (doc.error) parts.push(`<p class="bad">Error: ${esc(doc.error)}</p>`);
  parts.push(`<p class="machine">${esc(`Measured on ${doc.machine.cpus} × ${doc.machine.model} (load average ${doc.machine.loadAverage.join(' ')}, Node ${doc.machine.node}) on ${doc.startedAt}. ${doc.machine.note}.`)}</p>`);
  parts.push(`<p>${esc(`SLO per step: p95 ≤ ${fmt(doc.slo.latencyP95Ms)} ms, failures ≤ ${pct(doc.slo.failureRatio)}, achieved ≥ ${pct(doc.slo.achievedRatio)} of offered. Steps of ${fmt(doc.load.stepMs / 1000)} s (the first ${fmt(doc.load.settleMs / 1000)} s not judged), open model, ${doc.load.connections} connections, maxInFlight ${doc.load.maxInFlight}.`)}</p>`);
  parts.push(table(['search', 'replicas', 'knee', 'headroom for the peak'], doc.searches.map((s) => [`${s.name}${s.fault ? ` (${s.fault} throughout)` : ''}`, String(s.replicas ?? '—'), s.knee.text, s.headroom ? `${s.headroom.rate >= 0 ? '+' : ''}${fmt(s.headroom.rate)}/s over ${fmt(s.headroom.peak)}/s (${fmt(s.headroom.ratio)}×)` : '—'])));
  for (const c of capacityCharts(doc)) {
    parts.push(`<h2>${esc(c.title)}</h2><div class="row">${c.svgs.join('')}</div><p class="caption">${esc(c.caption)}</p>`);
  }
  const m = doc.massTermination;
  if (m) {
    parts.push(table(['figure', 'value'], [
      ['killed', `${m.killed} of ${m.replicasBefore} (${m.mode === 'all' ? 'all' : `${m.percent}%`}) under ${fmt(m.rate)}/s`],
      ['first replacement ready (platform)', secs(m.firstReadyMs)],
      ['first request served again (clients)', secs(m.firstServedMs)],
      ['50 % / 90 % / 100 % of pre-fault capacity back', `${secs(m.capacityBackMs.p50)} / ${secs(m.capacityBackMs.p90)} / ${secs(m.capacityBackMs.p100)}`],
      ['replicas recovered per second', m.replicasPerSecond === null ? '—' : fmt(m.replicasPerSecond)],
      ['requests lost from the kill (before 100 %)', `${m.requestsLost} (${m.requestsLostBeforeFull})`],
    ]));
  }
  if (doc.forecast) {
    parts.push(`<h2>Forecast</h2><ol>${doc.forecast.arithmetic.map((l) => `<li>${esc(l)}</li>`).join('')}</ol><p><strong>${doc.forecast.replicas} replicas</strong> ${esc(`serve ${fmt(doc.forecast.peak)}/s with the SLO met while ${doc.forecast.loss} recover${doc.forecast.loss === 1 ? 's' : ''}.`)}</p>`);
  }
  for (const s of doc.searches) {
    parts.push(`<h2>Steps: ${esc(s.name)}</h2>`);
    parts.push(table(['offered/s', 'achieved/s', 'p95 ms', 'failures', 'generator: send lag p99, CPU', 'other work (cores)', 'verdict', 'why'], s.steps.map((p) => [
      fmt(p.rate),
      fmt(p.achievedRate),
      p.p95Ms === null ? '—' : fmt(p.p95Ms),
      `${p.failures} (${pct(p.failureRatio)})`,
      `${p.generator.sendLagP99Ms === null ? '—' : `${fmt(p.generator.sendLagP99Ms)} ms`}, ${fmt(p.generator.cpuCores)}`,
      p.host ? fmt(p.host.foreignCores) : '—',
      p.verdict,
      [...p.reasons, ...p.generatorLimits].join('; '),
    ])));
  }
  if (comparison) parts.push(`<h2>Regression gate</h2><pre>${esc(capacityComparisonMarkdown(comparison))}</pre>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Capacity: ${esc(doc.scenario.name)}</title>
<style>
body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#212529}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #dee2e6;padding:4px 8px;text-align:left;font-size:14px}
.row{display:flex;flex-wrap:wrap;gap:8px}.caption,.machine{color:#495057;font-size:14px}.bad{color:#842029}
</style></head><body>
${parts.join('\n')}
</body></html>
`;
}
