import type { AppPlan } from '../../scenario/plan.js';
import type { ReplicaTemplate } from './replica.js';

/** What a replica keeps of the harness's environment: enough to find programs and a temp dir. */
const INHERITED = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];

/**
 * Any HTTP service as a pod template: its argv with no shell, its own environment plus PORT
 * (assigned per replica by the supervisor) and DATABASE_URL when it asked for the database.
 * `node` as the first word is the Node.js running gameday, so a fixture runs on the same runtime.
 */
export function appTemplate(app: AppPlan, databaseUrl: string | undefined): ReplicaTemplate {
  const [first, ...args] = app.command as [string, ...string[]];
  const env: Record<string, string> = {};
  for (const k of INHERITED) if (process.env[k]) env[k] = process.env[k] as string;
  return {
    command: first === 'node' ? process.execPath : first,
    args,
    cwd: app.workingDir ?? process.cwd(),
    env: { ...env, ...app.env, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) },
    startTimeoutMs: 30_000,
    port: 'assign',
  };
}
