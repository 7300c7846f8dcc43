import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/**
 * The k6 executable: `K6_BIN` when set (it must be an executable file), else the first `k6` on
 * PATH. Returns the problem, worded as `expected …, found …`, when there is none.
 */
export function findK6(env: Readonly<Record<string, string | undefined>>): { bin: string } | { problem: string } {
  const explicit = env['K6_BIN'];
  if (explicit !== undefined && explicit !== '') {
    const bin = isAbsolute(explicit) ? explicit : resolve(explicit);
    return executable(bin) ? { bin } : { problem: `K6_BIN: expected an executable k6 file, found "${explicit}" (${whyNot(bin)})` };
  }
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const bin = join(dir, 'k6');
    if (executable(bin)) return { bin };
  }
  return { problem: 'spec.load.driver: expected a k6 executable (set K6_BIN or put k6 on PATH; https://grafana.com/docs/k6/latest/set-up/install-k6/), found none' };
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function whyNot(path: string): string {
  try {
    return statSync(path).isFile() ? 'not executable' : 'not a file';
  } catch {
    return 'no such file';
  }
}
