#!/usr/bin/env node
// A stand-in for the k6 executable (none can be installed on the test machines): `run` replays a
// recorded k6 run (../shared/k6-samples/<name>.*) as k6 would produce it. Each line of the recorded
// `--out json` file is written to the given `--out json=<path>` when its time has come, at the
// recorded pace (FAKE_K6_SPEED > 1 compresses the pace, never the times), with every sample time
// shifted by a whole number of ms so that the recorded first send is now. On SIGINT it stops
// writing, writes the summary export and exits 105 like k6; at the end it writes the recorded
// summary export, prints the recorded stdout and exits with the recorded exit code.
// Environment: FAKE_K6_FIXTURE=<dir>/<name> (required), FAKE_K6_SPEED, FAKE_K6_SHIFT_FILE (gets the
// shift in ms), FAKE_K6_PID_FILE (gets this process's pid), FAKE_K6_CRASH_AFTER_MS (SIGKILLs itself).
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';

const args = process.argv.slice(2);
if (args[0] === 'version') {
  process.stdout.write('k6 v1.3.0 (fake-k6 stand-in replaying recorded output)\n');
  process.exit(0);
}
if (args[0] !== 'run') {
  process.stderr.write(`fake-k6: expected "run", found ${JSON.stringify(args[0])}\n`);
  process.exit(2);
}
let outPath;
let summaryPath;
for (let i = 1; i < args.length; i++) {
  const a = args[i];
  if (a === '--out') outPath = args[++i].replace(/^json=/, '');
  else if (a.startsWith('--summary-export=')) summaryPath = a.slice('--summary-export='.length);
}
const fixture = process.env.FAKE_K6_FIXTURE;
if (!fixture || !outPath) {
  process.stderr.write('fake-k6: expected FAKE_K6_FIXTURE and --out json=<path>\n');
  process.exit(2);
}
if (process.env.FAKE_K6_PID_FILE) writeFileSync(process.env.FAKE_K6_PID_FILE, String(process.pid));
const speed = Number(process.env.FAKE_K6_SPEED ?? '1');
const exitCode = Number(readFileSync(`${fixture}.exitcode`, 'utf8').trim());
const lines = readFileSync(`${fixture}.out.json`, 'utf8').split('\n').filter((l) => l !== '');

const TIME = /"time":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z"/;
const timeOf = (line) => {
  const m = TIME.exec(line);
  return m ? Date.parse(`${m[1]}Z`) + (m[2] ? Number(`0.${m[2]}`) * 1000 : 0) : undefined;
};
// The first send: the first request's end time minus its duration.
const firstDuration = lines.find((l) => l.startsWith('{"metric":"http_req_duration"'));
const firstSend = timeOf(firstDuration) - JSON.parse(firstDuration).data.value;
const startedAt = Date.now();
const shift = Math.round(startedAt - firstSend);
if (process.env.FAKE_K6_SHIFT_FILE) writeFileSync(process.env.FAKE_K6_SHIFT_FILE, String(shift));

const shifted = (line) =>
  line.replace(TIME, (_all, secs, frac) => {
    const ms = Date.parse(`${secs}Z`) + (frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0) + shift;
    const iso = new Date(ms).toISOString(); // …sss Z
    return `"time":"${iso.slice(0, -1)}${frac && frac.length > 3 ? frac.slice(3) : ''}Z"`;
  });

const fd = openSync(outPath, 'w');
let next = 0;
let finished = false;
const finish = (code) => {
  if (finished) return;
  finished = true;
  clearInterval(timer);
  closeSync(fd);
  if (summaryPath) writeFileSync(summaryPath, readFileSync(`${fixture}.summary-export.json`));
  process.stdout.write(readFileSync(`${fixture}.stdout.txt`));
  process.exit(code);
};
const pump = () => {
  const due = firstSend + (Date.now() - startedAt) * speed;
  let batch = '';
  while (next < lines.length) {
    const t = timeOf(lines[next]);
    if (t !== undefined && t > due) break;
    batch += `${t === undefined ? lines[next] : shifted(lines[next])}\n`;
    next++;
  }
  if (batch) writeSync(fd, batch);
  if (next >= lines.length) finish(exitCode);
};
const timer = setInterval(pump, 20);
process.on('SIGINT', () => {
  pump();
  finish(105);
});
if (process.env.FAKE_K6_CRASH_AFTER_MS) setTimeout(() => process.kill(process.pid, 'SIGKILL'), Number(process.env.FAKE_K6_CRASH_AFTER_MS));
