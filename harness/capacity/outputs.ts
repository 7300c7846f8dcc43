import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CapacityComparison } from '../report/gate/capacity.js';
import { renderCapacityHtml } from '../report/html/capacity-page.js';
import type { CapacityDocument } from './document.js';
import { capacityMarkdown } from './summary.js';

/** capacity.json, capacity.md and capacity.html into `dir`; returns the paths written. */
export async function writeCapacityOutputs(dir: string, doc: CapacityDocument, comparison?: CapacityComparison): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files = {
    'capacity.json': `${JSON.stringify(doc, null, 2)}\n`,
    'capacity.md': capacityMarkdown(doc),
    'capacity.html': renderCapacityHtml(doc, comparison),
  };
  const written: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    await writeFile(join(dir, name), text);
    written.push(join(dir, name));
  }
  return written;
}
