import { HistogramLogReader } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { decodeHistogram } from '../../harness/report/hdr.js';
import { renderHlog } from '../../harness/report/hlog.js';
import { renderJunit } from '../../harness/report/junit.js';
import { renderMarkdown } from '../../harness/report/markdown.js';
import { RESULT_SCHEMA_VERSION } from '../../harness/report/result.js';
import type { Comparison, MetricComparison } from '../../harness/report/gate/types.js';
import { syntheticResult } from './fixture.js';

describe('result.json', () => {
  it('carries its schema version, per-phase percentile curves and the encoded histograms', () => {
    const r = syntheticResult();
    expect(r.schemaVersion).toBe(RESULT_SCHEMA_VERSION);
    expect(r.hdr.seconds).toHaveLength(r.timeline.length);
    expect(r.hdr.phases).toHaveLength(r.phases.length);
    r.phases.forEach((p, i) => {
      const h = decodeHistogram(r.hdr.phases[i] as string);
      expect(h.totalCount).toBe(p.count);
      expect(h.getValueAtPercentile(95) / 1000).toBe(p.p95Ms);
      const curve = r.latencyDistribution[i]?.points ?? [];
      expect(curve.at(-1)).toEqual({ percentile: 100, valueMs: p.maxMs });
      expect(curve.find((pt) => pt.percentile === 90)?.valueMs).toBe(h.getValueAtPercentile(90) / 1000);
    });
  });
});

describe('latency.hlog', () => {
  it('reads back with HistogramLogReader: one interval per second, same counts and p99', () => {
    const r = syntheticResult();
    const log = renderHlog(r);
    expect(log).toMatch(/^#\[Histogram log format version 1\.3\]/);
    expect(log).toContain('#[StartTime: 1800000000.000');
    const reader = new HistogramLogReader(log);
    const read = [];
    for (let h = reader.nextIntervalHistogram(); h; h = reader.nextIntervalHistogram()) read.push(h);
    expect(read).toHaveLength(r.timeline.length);
    read.forEach((h, i) => {
      const w = r.timeline[i];
      expect(h.totalCount).toBe(w?.count);
      expect(h.totalCount ? h.getValueAtPercentile(99) / 1000 : null).toBe(w?.p99Ms);
      expect(h.endTimeStampMsec - h.startTimeStampMsec).toBe(1000);
    });
  });
});

describe('junit.xml', () => {
  it('has one testcase per check; a failed one says target vs actual; text is escaped', () => {
    const r = syntheticResult({ outageMs: 300 });
    const { detail: _detail, ...first } = r.checks[0] as (typeof r.checks)[number];
    r.checks[0] = { ...first, name: 'No <5xx> & "errors"', target: '== 0', actual: 12, passed: false };
    const xml = renderJunit(r);
    expect(xml.match(/<testcase /g)).toHaveLength(r.checks.length);
    expect(xml).toContain('name="SC-009: No &lt;5xx&gt; &amp; &quot;errors&quot;"');
    expect(xml).toContain('<failure message="expected == 0, actual 12"');
    expect(xml).toContain(`tests="${r.checks.length}" failures="1" errors="0"`);
  });

  it('with a baseline, the regression gate is a second suite: a regressed metric fails with its reason', () => {
    const metric = (label: string, status: MetricComparison['status'], reason: string): MetricComparison => ({ metric: 'latency.p95', label, unit: 'ms', baseline: 10, current: 14, ratio: 1.4, tolerance: { relative: 0.2, absolute: 3 }, allowance: 3, status, reason });
    const comparison: Comparison = { baseline: { scenario: 'fixture', files: [], runs: 1 }, current: { scenario: 'fixture', files: [], runs: 1 }, regressed: true, metrics: [metric('latency p95', 'regressed', '+35.0% or more > allowed +30.0%'), metric('platform RTO', 'n/a', 'not measured'), metric('failures', 'ok', 'fine')] };
    const xml = renderJunit(syntheticResult(), comparison);
    expect(xml).toContain('<testsuites name="gameday" tests="5" failures="1" errors="0"');
    expect(xml).toContain('<testsuite name="regression-gate" tests="3" failures="1" errors="0" skipped="1" time="0">');
    expect(xml).toContain('<failure message="+35.0% or more &gt; allowed +30.0%" type="regression">');
    expect(xml).toContain('<skipped/>');
  });

  it('an interrupted run is an error of the suite', () => {
    const xml = renderJunit({ ...syntheticResult(), runStatus: 'interrupted' });
    expect(xml).toContain('<error message="the run ended interrupted');
  });
});

describe('summary.md', () => {
  it('has the verdict, every check with target and actual, and escapes table cells', () => {
    const r = syntheticResult();
    r.checks[1] = { ...(r.checks[1] as (typeof r.checks)[number]), name: 'p95 | under load' };
    const md = renderMarkdown(r);
    expect(md).toMatch(/^## ✅ fixture: PASSED — 2\/2 checks passed/);
    expect(md).toContain('| SC-010 | p95 \\| under load | < 500 |');
    expect(md).not.toContain('Regression gate');
  });
});
