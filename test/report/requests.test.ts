import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatMsOrNa } from '../../harness/report/format.js';
import { decodeHistogram } from '../../harness/report/hdr.js';
import { renderHtml } from '../../harness/report/html/render.js';
import { renderMarkdown } from '../../harness/report/markdown.js';
import { renderOutputs } from '../../harness/report/outputs.js';
import { perSecondColumn } from '../../harness/report/requests.js';
import type { ResultDocument } from '../../harness/report/result.js';
import { selectRequest } from '../../harness/timeline/merge.js';
import { OUTPUT_FILES } from '../../harness/report/outputs.js';
import { runCli } from '../helpers/cli.js';
import { FIXTURE_REQUESTS, syntheticRun } from './fixture.js';

const { result: r, timeline } = syntheticRun();
const names = FIXTURE_REQUESTS.map((q) => q.name);

describe('result.json per request', () => {
  it('names every request in workload order; their figures add up to the totals', () => {
    expect(Object.keys(r.requests.byName)).toEqual(names);
    const all = Object.values(r.requests.byName);
    for (const key of ['total', 'arrivals', 'status5xx', 'transportErrors', 'dropped', 'unexpected', 'failures'] as const) {
      expect(all.reduce((s, f) => s + f[key], 0), key).toBe(r.requests[key]);
    }
    // `create` expects 201 and is answered 200: every one of its responses is unexpected, nothing else is.
    const create = r.requests.byName['create'];
    expect(create?.expectedStatuses).toEqual([201]);
    expect(create?.unexpected).toBe(create?.responses);
    expect(r.requests.unexpected).toBe(create?.responses);
    expect(r.requests.byName['get']?.expectedStatuses).toBeNull();
    expect(r.requests.byName['get']?.transportErrors).toBeGreaterThan(0); // the outage's refused connections
  });

  it('per phase: aligned with result.phases, the request histograms in hdr.requests agree with the counts', () => {
    for (const name of names) {
      const f = r.requests.byName[name];
      const encoded = r.hdr.requests[name] ?? [];
      expect(f?.phases).toHaveLength(r.phases.length);
      expect(encoded).toHaveLength(r.phases.length);
      r.phases.forEach((p, i) => {
        const h = decodeHistogram(encoded[i] as string);
        expect(h.totalCount).toBe(f?.phases[i]?.total);
        expect(f?.phases[i]?.p95Ms).toBe(h.totalCount ? h.getValueAtPercentile(95) / 1000 : null);
        expect(f?.phases[i]?.ratePerSec).toBeCloseTo((f?.phases[i]?.arrivals ?? 0) / ((p.span.endMs - p.span.startMs) / 1000), 9);
      });
    }
  });

  it('per second: compact columns, one value per second of the timeline, as recorded', () => {
    const columns = names.map((n) => r.requests.byName[n]?.perSecond);
    r.timeline.forEach((w, s) => {
      const count = columns.reduce((sum, c) => sum + (perSecondColumn(c?.count ?? '')[s] ?? 0), 0);
      expect(count, `second ${s}`).toBe(w.count);
    });
    const get = timeline.requests[0];
    const p95 = perSecondColumn(r.requests.byName['get']?.perSecond.p95Ms ?? '');
    expect(p95).toHaveLength(r.timeline.length);
    p95.forEach((v, s) => expect(v).toBe(get?.seconds.count[s] ? (get.seconds.p95Us[s] ?? 0) / 1000 : null));
    // A few hundred bytes a column for a minute: compact, not one object per second.
    expect(JSON.stringify(r.requests.byName['get']?.perSecond).length).toBeLessThan(8 * 8 * 61);
  });
});

describe('report.html per request', () => {
  const html = renderHtml(r);

  function row(section: string, name: string): string[] {
    const start = html.indexOf(`id="requests-${section}"`);
    expect(start).toBeGreaterThan(0);
    const body = html.slice(start, html.indexOf('</details>', start));
    const m = new RegExp(`<tr><td>${name}</td>(.*?)</tr>`).exec(body);
    expect(m, `${section} ${name}`).not.toBeNull();
    return [...(m?.[1] ?? '').matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => c[1] ?? '');
  }

  it('has a table per request over fault+recovery, open, with what the timeline gives for that selection', () => {
    expect(html).toContain('<section id="requests" class="requests">');
    expect(html).toMatch(/<details class="requests" id="requests-fault-recovery" open>/);
    for (const name of names) {
      const sel = selectRequest(timeline, name, ['fault', 'recovery']);
      if (!sel) throw new Error(name);
      const [expects, arrivals, rate, p50, p95, p99, s5xx, transport, dropped, unexpected] = row('fault-recovery', name);
      expect(expects).toBe(name === 'create' ? '201' : 'below 400');
      expect(Number(arrivals)).toBe(sel.arrivals);
      expect(rate).toBe(`${(sel.arrivals / (sel.durationMs / 1000)).toFixed(1)}/s`);
      expect([p50, p95, p99]).toEqual([formatMsOrNa(sel.p50Ms), formatMsOrNa(sel.p95Ms), formatMsOrNa(sel.p99Ms)]);
      expect([s5xx, transport, dropped, unexpected].map(Number)).toEqual([sel.status5xx, sel.transportErrors.total, sel.dropped, sel.unexpected]);
    }
  });

  it('each phase span can be opened on its own; no script needed', () => {
    r.phases.forEach((p, i) => {
      expect(html).toContain(`<details class="requests" id="requests-phase-${i}">`);
      const cells = row(`phase-${i}`, 'get');
      expect(Number(cells[1])).toBe(timeline.requests[0]?.phases[i]?.arrivals);
    });
    expect(html).not.toContain('<script');
  });

  it('without named requests there is no table', () => {
    const bare = { ...r, requests: { ...r.requests, byName: {} }, hdr: { ...r.hdr, requests: {} } };
    expect(renderHtml(bare)).not.toContain('id="requests"');
  });
});

describe('re-rendering from result.json', () => {
  it('gives every output from the parsed file alone', () => {
    const first = renderOutputs(r);
    const again = renderOutputs(JSON.parse(first['result.json']) as ResultDocument);
    // ECharts numbers its SVG classes per renderer in a process; a fresh process (gameday report,
    // test/e2e/report-gate.test.ts) gives the same bytes.
    const same = (text: string): string => text.replace(/zr\d+-[\w-]+/g, 'zr');
    for (const [file, text] of Object.entries(first)) expect(same(again[file as keyof typeof first]), file).toBe(same(text));
  });

  it('gameday report, in a fresh process each time, writes the same bytes from result.json alone', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gd-requests-'));
    try {
      const json = renderOutputs(r)['result.json'];
      writeFileSync(join(dir, 'result.json'), json);
      for (const out of ['a', 'b']) {
        const from = out === 'a' ? join(dir, 'result.json') : join(dir, 'a', 'result.json');
        const run = await runCli(['report', from, '--out', join(dir, out)]);
        expect(run.code, run.stderr).toBe(0);
      }
      expect(readFileSync(join(dir, 'a', 'result.json'), 'utf8')).toBe(json);
      for (const f of OUTPUT_FILES) expect(readFileSync(join(dir, 'b', f), 'utf8'), f).toBe(readFileSync(join(dir, 'a', f), 'utf8'));
      expect(readFileSync(join(dir, 'a', 'report.html'), 'utf8')).toContain('id="requests-fault-recovery"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('summary.md has the per-request table', () => {
    const md = renderMarkdown(r);
    expect(md).toContain('#### Per request (after warm-up)');
    const create = r.requests.byName['create'];
    expect(md).toContain(`| create | ${create?.arrivals} | ${formatMsOrNa(create?.p50Ms ?? null)} |`);
    expect(md).toMatch(new RegExp(`\\| create \\|.*\\| ${create?.unexpected} \\|`));
  });
});
