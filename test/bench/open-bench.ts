// Runs open-client.ts measurements, each in a fresh process: the client is bundled once to plain
// JavaScript (esbuild, packages left to node_modules) so neither side compiles TypeScript at start.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ROOT } from '../helpers/cli.js';
import type { Answer, Ask } from './open-client.js';

export type { Answer, Ask };

export interface OpenClients {
  run(ask: Ask, nodeArgs?: string[]): Promise<Answer>;
  close(): void;
}

/** Bundles open-client.ts into node_modules/.cache (so its imports resolve) and returns a runner. */
export async function openClients(): Promise<OpenClients> {
  const dir = join(ROOT, 'node_modules', '.cache', `gameday-bench-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'open-client.mjs');
  await build({ entryPoints: [join(ROOT, 'test/bench/open-client.ts')], bundle: true, packages: 'external', platform: 'node', format: 'esm', target: 'node20', outfile: file, logLevel: 'warning' });
  return {
    run: (ask, nodeArgs = []) =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [...nodeArgs, file, JSON.stringify(ask)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
        const timer = setTimeout(() => child.kill('SIGKILL'), (ask.seconds + 60) * 1000);
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
        child.once('error', reject);
        child.once('exit', (code) => {
          clearTimeout(timer);
          const line = out.trim().split('\n').pop() ?? '';
          if (code !== 0 || !line.startsWith('{')) reject(new Error(`open client (${ask.side}) exited ${code}: ${out.slice(-500)}`));
          else resolve(JSON.parse(line) as Answer);
        });
      }),
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
