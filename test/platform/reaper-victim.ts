/**
 * A stand-in harness for the reaper test: starts the reaper, registers a process group and a
 * directory, creates them, writes their ids and kills itself with SIGKILL at once — the tightest
 * window between a registration and the harness's death.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Reaper } from '../../harness/platform/local/reaper.js';

const [dir, idsFile] = process.argv.slice(2) as [string, string];
const reaper = await Reaper.start();
reaper.watchPath(dir);
mkdirSync(dir);
const sleeper = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
reaper.watchGroup(sleeper.pid as number, 'SIGTERM');
writeFileSync(idsFile, JSON.stringify({ reaper: reaper.pid, sleeper: sleeper.pid }));
process.kill(process.pid, 'SIGKILL');
