import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * What a local run loads before its first request: the run command's modules and the local
 * platform's. Packages that only some runs use load when those runs need them; loaded by every
 * run, each cost start-up time (CPU): the Kubernetes client ~0.5 s, faker's every locale ~0.3 s,
 * ECharts (the report) ~0.6 s.
 */
const LATE = [
  { name: '@kubernetes/client-node', pattern: /node_modules\/@kubernetes\/client-node\// },
  { name: "faker's main entry (every locale)", pattern: /node_modules\/@faker-js\/faker\/dist\/index\.js$/ },
  { name: 'echarts', pattern: /node_modules\/echarts\// },
];

/** Every module URL resolved while importing `modules` (a resolve hook in a child process, from the sources). */
function resolvedBy(modules: string[]): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'gd-imports-'));
  const script = join(dir, 'imports.mjs');
  const hook = `let port; export function initialize(d) { port = d.port; } export async function resolve(s, c, next) { const r = await next(s, c); port.postMessage(r.url); return r; }`;
  writeFileSync(
    script,
    `import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const urls = [];
port1.on('message', (u) => urls.push(u));
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}), { data: { port: port2 }, transferList: [port2] });
for (const m of ${JSON.stringify(modules.map((m) => pathToFileURL(join(ROOT, m)).href))}) await import(m);
await new Promise((r) => setTimeout(r, 200));
port1.close();
console.log(JSON.stringify(urls));
`,
  );
  return new Promise<string[]>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`exit ${code}: ${err}`));
      resolve(JSON.parse(out.trim().split('\n').pop() ?? '[]') as string[]);
    });
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
}

describe("a local run's start-up", () => {
  it('loads neither the Kubernetes client, nor every faker locale, nor ECharts', { timeout: 60_000 }, async () => {
    const urls = await resolvedBy(['harness/cli/run-command.ts', 'harness/cli/run-once.ts', 'harness/platform/local/index.ts']);
    // The probe sees the run's own modules: it would see the packages too.
    expect(urls.some((u) => u.endsWith('/harness/run/gameday.ts'))).toBe(true);
    expect(urls.some((u) => /node_modules\/undici\//.test(u))).toBe(true);
    expect(LATE.filter((p) => urls.some((u) => p.pattern.test(u))).map((p) => p.name)).toEqual([]);
  });
});
