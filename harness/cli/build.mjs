// npm run build (and npm ci, through `prepare`): compiles harness/**/*.ts to dist/harness/**/*.js,
// one file per source so every relative path (child entry points, the worker, the project root)
// keeps its meaning, and writes the build stamp bin.mjs checks at start.
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { DIST, STAMP, sourceState } from './build-state.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const stampFile = join(root, DIST, STAMP);
const started = performance.now();

// Without a stamp a start uses the sources, so nobody runs a half-written tree; the state is taken
// before compiling, so a file edited during the build leaves the build stale.
await rm(stampFile, { force: true });
const state = sourceState(root);
const entryPoints = readdirSync(join(root, 'harness'), { recursive: true })
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .map((f) => join(root, 'harness', f));
const out = await build({
  entryPoints,
  write: false,
  outdir: join(root, DIST, 'harness'),
  outbase: join(root, 'harness'),
  bundle: false,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
// A process started from the previous build may still be loading its modules (a run imports some
// late): each file is replaced whole (renamed over), and only when it changed.
let written = 0;
for (const file of out.outputFiles) {
  let old;
  try {
    old = readFileSync(file.path);
  } catch {
    old = undefined;
  }
  if (old && Buffer.compare(old, file.contents) === 0) continue;
  await mkdir(dirname(file.path), { recursive: true });
  const temp = `${file.path}.${process.pid}.tmp`;
  await writeFile(temp, file.contents);
  await rename(temp, file.path);
  written++;
}
await writeFile(stampFile, `${JSON.stringify(state)}\n`);
process.stdout.write(`gameday: compiled ${entryPoints.length} files to ${DIST}/ (${written} changed) in ${Math.round(performance.now() - started)} ms\n`);
