import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser test cannot run here, or undefined when it can. In CI it must run: never skipped. */
export function browserSkipReason(): string | undefined {
  if (existsSync(CHROMIUM) || process.env['CI']) return undefined;
  return `${CHROMIUM} is not installed (apt-get install -y chromium); CI installs it and runs this test`;
}

/** Debian's Chromium, headless, with nothing that would phone home on its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

export interface PageVisit {
  consoleErrors: string[];
  /** Every request the page made, except its own file:// URL and data: URIs. */
  foreignRequests: string[];
  charts: Array<{ id: string; marks: number; width: number; height: number }>;
  verdict: string;
}

/** Opens `file` (file://), collects console errors and requests, and measures every chart's SVG. */
export async function visitReport(browser: Browser, file: string, screenshot: string): Promise<PageVisit> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const consoleErrors: string[] = [];
  const foreignRequests: string[] = [];
  const url = `file://${file}`;
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  page.on('request', (r) => {
    if (r.url() !== url && !r.url().startsWith('data:')) foreignRequests.push(r.url());
  });
  await page.goto(url, { waitUntil: 'load' });
  const charts = await page.$$eval('figure.chart', (figs) =>
    figs.map((f) => {
      const svg = f.querySelector('svg');
      const box = svg?.getBoundingClientRect();
      return { id: f.id, marks: svg ? svg.querySelectorAll('path, rect, polyline, polygon, circle').length : 0, width: box?.width ?? 0, height: box?.height ?? 0 };
    }),
  );
  const verdict = (await page.textContent('#verdict')) ?? '';
  await page.screenshot({ path: screenshot, fullPage: true });
  await page.close();
  return { consoleErrors, foreignRequests, charts, verdict };
}
