import { readFile, readdir } from 'node:fs/promises';

/** Process resources from Linux's /proc, as `ps` and `lsof` read them. */

/** Resident set size in bytes (VmRSS of /proc/<pid>/status, which the kernel gives in kB). */
export async function readRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid} (a zombie?)`);
  return Number(match[1]) * 1024;
}

/** Open file descriptors: the entries of /proc/<pid>/fd. */
export async function countOpenFds(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}
