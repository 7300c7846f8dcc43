import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Comparison } from '../../harness/report/gate/types.js';
import { writeOutputs } from '../../harness/report/outputs.js';
import type { ResourcesBlock } from '../../harness/report/result.js';
import { browserSkipReason, launchChromium, visitReport } from '../report/browser.js';
import { syntheticResult } from '../report/fixture.js';

const skip = browserSkipReason();
let dir = '';
/** Set GAMEDAY_KEEP_SCREENSHOT=1 to keep the temp dir and look at the screenshots. */
const keep = Boolean(process.env['GAMEDAY_KEEP_SCREENSHOT']);
let browser: Browser | undefined;

/** Resource samples as the resource stage writes them (harness/observe/series.ts). */
const points = (f: (s: number) => number): Array<[number, number]> => Array.from({ length: 60 }, (_, i) => [i * 1000, f(i)]);
const resources: ResourcesBlock = {
  series: [
    { resource: 'db_connections', replica: 'total', points: points((s) => (s >= 20 && s < 24 ? 7 : 10)) },
    { resource: 'db_pool_active', replica: 'total', points: points((s) => (s >= 20 && s < 22 ? 9 : 3)) },
    { resource: 'rss_bytes', replica: 'task-api-a', points: points((s) => 80e6 + s * 1e5).slice(0, 20) },
    { resource: 'rss_bytes', replica: 'task-api-d', points: points((s) => 60e6 + s * 3e5).slice(21) },
    { resource: 'open_fds', replica: 'task-api-b', points: points(() => 23) },
  ],
  recovery: [],
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gd-html-'));
  if (!skip) browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  if (keep) process.stderr.write(`report-browser: screenshots kept in ${dir}\n`);
  else if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(skip !== undefined)(`report.html in headless Chromium${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('opens offline from disk: no console error, no request, every chart drawn with marks, a screenshot', async () => {
    const out = join(dir, 'failed-run');
    const r = syntheticResult({ outageMs: 600, extra: { resources } });
    r.checks[0] = { ...(r.checks[0] as (typeof r.checks)[number]), actual: 120, passed: false };
    await writeOutputs(out, { ...r, passed: false, verdict: 'failed' });
    const shot = join(dir, 'failed-run.png');
    const visit = await visitReport(browser as Browser, join(out, 'report.html'), shot);
    expect(visit.consoleErrors).toEqual([]);
    expect(visit.foreignRequests).toEqual([]);
    expect(visit.verdict).toBe('FAILED');
    expect(visit.charts.map((c) => c.id)).toEqual(['chart-latency', 'chart-throughput', 'chart-distribution', 'chart-resources-db', 'chart-resources-rss', 'chart-resources-fds']);
    for (const c of visit.charts) {
      expect(c.marks, c.id).toBeGreaterThan(10);
      expect(c.width, c.id).toBeGreaterThan(600);
      expect(c.height, c.id).toBeGreaterThan(200);
    }
    expect(statSync(shot).size).toBeGreaterThan(50_000);
  });

  it('without resource data there are no resource charts and nothing breaks', async () => {
    const out = join(dir, 'no-resources');
    await writeOutputs(out, syntheticResult());
    const visit = await visitReport(browser as Browser, join(out, 'report.html'), join(dir, 'no-resources.png'));
    expect(visit.consoleErrors).toEqual([]);
    expect(visit.foreignRequests).toEqual([]);
    expect(visit.charts.map((c) => c.id)).toEqual(['chart-latency', 'chart-throughput', 'chart-distribution']);
  });

  it('a comparison shows the servers\' rows beside the gate, as summary.md does, or why there are none', async () => {
    const note = 'informational, never gated';
    const comparison = (server: Comparison['server']): Comparison => ({
      baseline: { scenario: 'fixture', files: [], runs: 1 },
      current: { scenario: 'fixture', files: [], runs: 1 },
      regressed: false,
      metrics: [],
      ...(server ? { server } : {}),
    });
    const rows = [
      { window: 'fault of kill', figure: 'requests' as const, baseline: '412', current: '398', change: '-14 (-3.4%)' },
      { window: 'fault of kill', figure: 'p95' as const, baseline: '100–250 ms', current: '250–500 ms', change: 'higher bucket' },
    ];
    const out = join(dir, 'compared');
    await writeOutputs(out, syntheticResult(), { comparison: comparison({ note, rows }) });
    const page = await (browser as Browser).newPage();
    const requests: string[] = [];
    page.on('request', (r) => void (r.url().startsWith('file://') || requests.push(r.url())));
    try {
      await page.goto(`file://${join(out, 'report.html')}`, { waitUntil: 'load' });
      const cells = await page.$$eval('#comparison-server tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
      expect(cells).toEqual(rows.map((r) => [r.window, r.figure, r.baseline, r.current, r.change]));
      expect(await page.textContent('#comparison')).toContain(note);
      // The same figures as summary.md's table.
      const md = readFileSync(join(out, 'summary.md'), 'utf8');
      for (const r of rows) expect(md).toContain(`| ${r.window} | ${r.figure} | ${r.baseline} | ${r.current} | ${r.change} |`);

      const none = join(dir, 'compared-none');
      await writeOutputs(none, syntheticResult(), { comparison: comparison({ note, rows: [], unavailable: 'current: cross-check skipped: unreachable' }) });
      await page.goto(`file://${join(none, 'report.html')}`, { waitUntil: 'load' });
      expect(await page.$('#comparison-server')).toBeNull();
      expect(await page.textContent('#comparison')).toContain('No server rows: current: cross-check skipped: unreachable.');
      expect(requests).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
