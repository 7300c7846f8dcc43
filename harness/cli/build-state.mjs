// Whether the compiled CLI under dist/ matches the TypeScript sources under harness/. Plain
// JavaScript, so bin.mjs can ask before anything is compiled or loaded.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The compiled tree (ignored by git): dist/harness/… mirrors harness/…, one .js per .ts. */
export const DIST = 'dist';
export const STAMP = 'build-stamp.json';

/**
 * The sources' state, cheap enough for every start (one stat per file, a few ms): the newest
 * mtime of harness/**∕*.ts and a hash of their paths, so an edit, an added, a removed or a
 * renamed file all change it.
 */
export function sourceState(root) {
  const dir = join(root, 'harness');
  const files = readdirSync(dir, { recursive: true })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort();
  let newestMtimeMs = 0;
  for (const f of files) newestMtimeMs = Math.max(newestMtimeMs, statSync(join(dir, f)).mtimeMs);
  const paths = createHash('sha1').update(files.join('\n')).digest('hex');
  return { newestMtimeMs, files: files.length, paths };
}

/** The compiled CLI's entry if the build stamp matches the sources as they are now, else undefined. */
export function compiledEntry(root) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(root, DIST, STAMP), 'utf8'));
  } catch {
    return undefined; // never built, or a build is under way (it removes the stamp first)
  }
  const now = sourceState(root);
  const fresh = stamp.newestMtimeMs === now.newestMtimeMs && stamp.files === now.files && stamp.paths === now.paths;
  return fresh ? join(root, DIST, 'harness', 'cli', 'main.js') : undefined;
}
