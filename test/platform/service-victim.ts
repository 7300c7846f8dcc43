/**
 * A stand-in harness for the Service handoff test: deploys the Task API on the local platform,
 * writes the Service's address and the pids of everything it started, then waits for a line on
 * stdin (the test has opened connections through the Service by then) and kills itself with
 * SIGKILL: no teardown runs, the reaper and the replicas' own IPC watch must clean up.
 */
import { writeFileSync } from 'node:fs';
import { SystemClock } from '../../harness/core/clock.js';
import { Journal } from '../../harness/core/journal.js';
import { LocalPlatform } from '../../harness/platform/local/index.js';
import { localPlatformPlan } from '../helpers/plans.js';
import { descendants } from '../helpers/leftovers.js';

const [idsFile] = process.argv.slice(2) as [string];
const clock = new SystemClock();
const journal = new Journal(clock);
const plan = localPlatformPlan({ replicas: 2, seedRows: 100, pool: { size: 2, acquireTimeoutMs: 1000, statementTimeoutMs: 5000 } });
const platform = new LocalPlatform(plan, { journal }, clock);
const d = await platform.deploy(new AbortController().signal);
const replicas = journal.events().filter((e) => e.type === 'replica.started').map((e) => Number(e.detail?.['pid']));
writeFileSync(idsFile, JSON.stringify({ serviceUrl: d.serviceUrl, replicas, started: descendants() }));
process.stdin.once('data', () => process.kill(process.pid, 'SIGKILL'));
