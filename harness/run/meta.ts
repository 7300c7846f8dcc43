import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Plan } from '../scenario/plan.js';
import { PROJECT_ROOT } from '../core/paths.js';

/** How to re-run a result: the command, the scenario, the versions and the commit. */
export interface RunMeta {
  startedAt: string;
  command: string;
  scenarioFile?: string;
  gameday: string;
  node: string;
  undici: string;
  gitCommit: string | null;
  gitDirty: boolean | null;
  host: { platform: string; arch: string; cpus: number };
}

const run = promisify(execFile);

async function git(args: string[]): Promise<string | null> {
  try {
    const { stdout } = await run('git', args, { cwd: PROJECT_ROOT, timeout: 5000 });
    return stdout.trim();
  } catch {
    return null;
  }
}

async function version(pkgJson: string): Promise<string> {
  try {
    return (JSON.parse(await readFile(pkgJson, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function runMeta(plan: Plan, startedAt: Date, argv: string[]): Promise<RunMeta> {
  const { cpus } = await import('node:os');
  const commit = await git(['rev-parse', 'HEAD']);
  const status = commit ? await git(['status', '--porcelain', '--untracked-files=no']) : null;
  return {
    startedAt: startedAt.toISOString(),
    command: ['gameday', ...argv].map((a) => (/^[\w./:=@-]+$/.test(a) ? a : JSON.stringify(a))).join(' '),
    ...(plan.source ? { scenarioFile: plan.source } : {}),
    gameday: await version(`${PROJECT_ROOT}package.json`),
    node: process.version,
    undici: await version(`${PROJECT_ROOT}node_modules/undici/package.json`),
    gitCommit: commit,
    gitDirty: status === null ? null : status.length > 0,
    host: { platform: process.platform, arch: process.arch, cpus: cpus().length },
  };
}
