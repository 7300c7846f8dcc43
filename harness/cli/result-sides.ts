import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import type { LoadedResult } from '../report/gate/compare-results.js';
import { readResult } from '../report/read-result.js';

async function kind(path: string): Promise<'file' | 'dir' | undefined> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

/** The result files a path stands for: itself, a run's out directory, or every repetition of a `--repeat` run. */
async function resultFiles(path: string): Promise<string[]> {
  const k = await kind(path);
  if (k === 'file') return [path];
  if (k === undefined) throw new InputError([{ path, expected: 'a result.json or a run directory', found: 'nothing there' }]);
  const repeats = (await readdir(path)).filter((n) => /^repeat-\d+$/.test(n)).sort((a, b) => Number(a.slice(7)) - Number(b.slice(7)));
  const files = repeats.map((n) => join(path, n, 'result.json'));
  return files.length > 0 ? files : [join(path, 'result.json')];
}

/** Loads one side of a comparison (one run or all repetitions of one), validating each file. */
export async function loadSide(path: string): Promise<LoadedResult[]> {
  const files = await resultFiles(path);
  return Promise.all(files.map(async (file) => ({ file, doc: await readResult(file) })));
}
