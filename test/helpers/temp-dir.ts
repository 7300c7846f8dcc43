import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/**
 * A test file's scratch directory, made when a test first asks for it and removed after the file.
 * Made at import instead, it would be left behind whenever no test of the file runs (a `-t`
 * filter, every test skipped), since vitest then runs none of the file's hooks.
 */
export function lazyTempDir(prefix: string): () => string {
  let dir: string | undefined;
  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  return () => (dir ??= mkdtempSync(join(tmpdir(), prefix)));
}
