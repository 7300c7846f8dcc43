import type { CapacityDocument } from './document.js';
import { fmt, pct, rate } from './judge.js';

const ms = (v: number | null): string => (v === null ? 'not within the watch' : `${fmt(Math.round(v) / 1000)} s`);

/** The figures as Markdown: the console summary and capacity.md. */
export function capacityMarkdown(doc: CapacityDocument): string {
  const out: string[] = [`# Capacity: ${doc.scenario.name} (${doc.status})`, ''];
  if (doc.error) out.push(`**Error:** ${doc.error}`, '');
  out.push(`SLO per step: p95 ≤ ${fmt(doc.slo.latencyP95Ms)} ms, failures ≤ ${pct(doc.slo.failureRatio)}, achieved ≥ ${pct(doc.slo.achievedRatio)} of offered; steps of ${fmt(doc.load.stepMs / 1000)} s, the first ${fmt(doc.load.settleMs / 1000)} s not judged.`, '');
  out.push('| search | replicas | knee | headroom for the peak |', '|---|---|---|---|');
  for (const s of doc.searches) {
    const head = s.headroom ? `${s.headroom.rate >= 0 ? '+' : ''}${rate(s.headroom.rate)}/s over ${rate(s.headroom.peak)}/s (${fmt(s.headroom.ratio)}×)` : '—';
    out.push(`| ${s.name}${s.fault ? ` (${s.fault} throughout)` : ''} | ${s.replicas ?? '—'} | ${s.knee.text} | ${head} |`);
  }
  const n = doc.searches.find((s) => s.name === 'N');
  for (const v of doc.searches.filter((s) => s.name !== 'N')) {
    if (n?.knee.status === 'found' && n.knee.rate && v.knee.status === 'found' && v.knee.rate !== null) out.push('', `Capacity lost with ${v.name}: ${rate(n.knee.rate - v.knee.rate)}/s (${pct(1 - v.knee.rate / n.knee.rate)} of ${rate(n.knee.rate)}/s).`);
  }
  const m = doc.massTermination;
  if (m) {
    out.push('', `## Mass termination`, '', `${m.killed} of ${m.replicasBefore} replicas killed (${m.mode === 'all' ? 'all' : `${m.percent}%`}) under ${rate(m.rate)}/s (${pct(m.rate / m.kneeRate)} of the knee ${rate(m.kneeRate)}/s); one replica counted as ${rate(m.perReplicaRate)}/s.`, '');
    out.push('| figure | value |', '|---|---|');
    out.push(`| first replacement ready (platform) | ${ms(m.firstReadyMs)} |`);
    out.push(`| first request served again (clients) | ${ms(m.firstServedMs)} |`);
    out.push(`| 50 % of pre-fault capacity back | ${ms(m.capacityBackMs.p50)} |`);
    out.push(`| 90 % back | ${ms(m.capacityBackMs.p90)} |`);
    out.push(`| 100 % back | ${ms(m.capacityBackMs.p100)} |`);
    out.push(`| replicas recovered per second | ${m.replicasPerSecond === null ? '—' : fmt(m.replicasPerSecond)} |`);
    out.push(`| requests lost (from the kill; before 100 %) | ${m.requestsLost} (${m.requestsLostBeforeFull}) |`);
  }
  if (!doc.forecast && doc.peak !== undefined) out.push('', `No forecast: the knee with every replica was not found (${doc.searches.find((s) => s.name === 'N')?.knee.text ?? 'not measured'}).`);
  if (doc.forecast) out.push('', '## Forecast', '', ...doc.forecast.arithmetic.map((l) => `- ${l}`), '', `**${doc.forecast.replicas} replicas** serve ${fmt(doc.forecast.peak)}/s with the SLO met while ${doc.forecast.loss} recover${doc.forecast.loss === 1 ? 's' : ''}.`);
  out.push('', `Machine: ${doc.machine.cpus} × ${doc.machine.model}, load average ${doc.machine.loadAverage.join(' ')}, Node ${doc.machine.node}. ${doc.machine.note}.`, '');
  return out.join('\n');
}
