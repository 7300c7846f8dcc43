import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Comparison } from './gate/types.js';
import { renderHlog } from './hlog.js';
import { renderHtml } from './html/render.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import type { ResultDocument } from './result.js';

/** The files a run leaves in its out directory, every one rendered from result.json alone. */
export const OUTPUT_FILES = ['result.json', 'report.html', 'junit.xml', 'summary.md', 'latency.hlog'] as const;

export interface WriteOptions {
  comparison?: Comparison;
  /** $GITHUB_STEP_SUMMARY: summary.md is appended there too when set. */
  stepSummary?: string;
}

export function renderOutputs(r: ResultDocument, comparison?: Comparison): Record<(typeof OUTPUT_FILES)[number], string> {
  return {
    'result.json': `${JSON.stringify(r, null, 2)}\n`,
    'report.html': renderHtml(r, comparison),
    'junit.xml': renderJunit(r, comparison),
    'summary.md': renderMarkdown(r, comparison),
    'latency.hlog': renderHlog(r),
  };
}

/** Writes every output into `dir`; returns the paths written. */
export async function writeOutputs(dir: string, r: ResultDocument, opts: WriteOptions = {}): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files = renderOutputs(r, opts.comparison);
  const written: string[] = [];
  for (const name of OUTPUT_FILES) {
    const path = join(dir, name);
    await writeFile(path, files[name]);
    written.push(path);
  }
  if (opts.stepSummary) await appendFile(opts.stepSummary, `${files['summary.md']}\n`);
  return written;
}
