import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../harness/core/clock.js';
import { Journal } from '../../harness/core/journal.js';
import { LocalPlatform } from '../../harness/platform/local/index.js';
import { ReplicaProcess } from '../../harness/platform/local/replica.js';
import { HandoffService } from '../../harness/platform/local/service-handoff.js';
import type { Deployment } from '../../harness/platform/types.js';
import { localPlatformPlan } from '../helpers/plans.js';
import { describeProcess, descendants, isAlive, privateTmp, stillListening, waitFor } from '../helpers/leftovers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VICTIM = fileURLToPath(new URL('./service-victim.ts', import.meta.url));

/** One HTTP/1.1 keep-alive connection, one request at a time; `ended` settles when it closes. */
class Conn {
  readonly ended: Promise<'closed' | 'reset'>;
  private buf = Buffer.alloc(0);
  private waiting?: () => void;
  /** Kept: a closed socket no longer knows its port. */
  readonly localPort: number;

  private constructor(readonly socket: Socket) {
    this.localPort = socket.localPort as number;
    socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.waiting?.();
    });
    this.ended = new Promise((resolve) => {
      let reset = false;
      socket.on('error', () => (reset = true));
      socket.once('close', () => {
        resolve(reset ? 'reset' : 'closed');
        this.waiting?.();
      });
    });
  }

  static open(url: string): Promise<Conn> {
    const { port } = new URL(url);
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: Number(port) });
      s.once('connect', () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }

  /** GET `path`; rejects if the connection ends first or after `timeoutMs`. */
  async get(path: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
    this.buf = Buffer.alloc(0);
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const head = this.buf.indexOf('\r\n\r\n');
      if (head >= 0) {
        const headers = this.buf.subarray(0, head).toString();
        const length = Number(/content-length: (\d+)/i.exec(headers)?.[1] ?? NaN);
        if (this.buf.length >= head + 4 + length) return { status: Number(headers.slice(9, 12)), body: this.buf.subarray(head + 4, head + 4 + length).toString() };
      }
      if (this.socket.destroyed) throw new Error(`connection ended before the response to ${path}`);
      if (Date.now() > deadline) throw new Error(`no response to ${path} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiting = () => (clearTimeout(t), resolve());
      });
    }
  }

  /** Which replica answers on this connection (the Task API names itself in /metrics). */
  async replica(): Promise<string> {
    const res = await this.get('/metrics');
    const name = /task_api_info\{replica="([^"]+)"\} 1/.exec(res.body)?.[1];
    if (!name) throw new Error(`no replica name in /metrics (status ${res.status})`);
    return name;
  }
}

/** Pids (among this process and its descendants) holding the server side of the connection from `clientPort` to `servicePort`. */
function serverSideOwners(servicePort: number, clientPort: number): number[] {
  const hex = (p: number): string => p.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1]?.endsWith(`:${hex(servicePort)}`) && f[2]?.endsWith(`:${hex(clientPort)}`) && f[9] !== undefined) inodes.add(f[9]);
  }
  const owners: number[] = [];
  for (const pid of [process.pid, ...descendants()]) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    const holds = fds.some((fd) => {
      try {
        return inodes.has(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? '');
      } catch {
        return false;
      }
    });
    if (holds) owners.push(pid);
  }
  return owners;
}

describe('the Service hands connections over to ready replicas (Task API)', () => {
  const clock = new SystemClock();
  const journal = new Journal(clock);
  const tmp = privateTmp();
  const savedTmp = process.env['TMPDIR'];
  process.env['TMPDIR'] = tmp.dir;
  // Two failed probes of at most 1 s take a frozen replica out of the Service.
  const plan = localPlatformPlan({ readinessProbe: { initialDelayMs: 0, periodMs: 100, timeoutMs: 1000, failureThreshold: 2, successThreshold: 1 }, pool: { size: 2, acquireTimeoutMs: 1000, statementTimeoutMs: 5000 }, seedRows: 100 });
  const platform = new LocalPlatform(plan, { journal }, clock);
  let d: Deployment;
  let servicePort: number;
  const pidOf = (name: string): number => Number(journal.events().find((e) => e.type === 'replica.started' && e.target === name)?.detail?.['pid']);
  const conns: Conn[] = [];
  const open = async (): Promise<Conn> => {
    const c = await Conn.open(d.serviceUrl);
    conns.push(c);
    return c;
  };

  beforeAll(async () => {
    d = await platform.deploy(new AbortController().signal);
    servicePort = Number(new URL(d.serviceUrl).port);
  }, 60_000);
  afterAll(async () => {
    for (const c of conns) c.socket.destroy();
    await platform.teardown();
    if (savedTmp === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = savedTmp;
    rmSync(tmp.dir, { recursive: true, force: true });
  });

  it('gives each new connection to one replica, which alone holds it: the Service keeps no copy and moves no bytes', async () => {
    const seen = new Map<string, number>();
    for (let i = 0; i < 6; i++) {
      const c = await open();
      const name = await c.replica();
      seen.set(name, (seen.get(name) ?? 0) + 1);
      // The server side of the connection is in the replica's process, and only there.
      expect(await waitFor(() => serverSideOwners(servicePort, c.localPort).join() === String(pidOf(name)), 2000)).toBe(true);
      expect((await c.get('/tasks/1')).status).toBe(200);
    }
    expect([...seen.keys()].sort()).toEqual(d.replicas().map((r) => r.name).sort());
    for (const c of conns.splice(0)) c.socket.destroy();
  });

  it('gives no new connection to a replica that is not ready, and takes it back once ready', async () => {
    const victim = d.replicas()[0]!.name;
    const pid = pidOf(victim);
    const t0 = clock.now();
    process.kill(-pid, 'SIGSTOP');
    try {
      expect(await waitFor(() => journal.events().some((e) => e.type === 'replica.left-service' && e.target === victim && e.atMs >= t0), 10_000)).toBe(true);
      for (let i = 0; i < 6; i++) {
        const c = await open();
        // A connection given to the frozen replica would get no answer.
        expect((await c.get('/tasks/1', 3000)).status).toBe(200);
        expect(serverSideOwners(servicePort, c.localPort)).not.toContain(pid);
      }
    } finally {
      process.kill(-pid, 'SIGCONT');
    }
    expect(await waitFor(() => journal.events().some((e) => e.type === 'replica.joined-service' && e.target === victim && e.atMs >= t0), 10_000)).toBe(true);
    const names = new Set<string>();
    for (let i = 0; i < 3; i++) names.add(await (await open()).replica());
    expect(names.has(victim)).toBe(true);
    for (const c of conns.splice(0)) c.socket.destroy();
  });

  it('a SIGKILLed replica closes its connections at once; the other replicas keep theirs', async () => {
    const byReplica = new Map<string, Conn[]>();
    for (let i = 0; i < 6; i++) {
      const c = await open();
      const name = await c.replica();
      byReplica.set(name, [...(byReplica.get(name) ?? []), c]);
    }
    const [victim, theirs] = [...byReplica.entries()][0]!;
    process.kill(-pidOf(victim), 'SIGKILL');
    const ended = await Promise.race([Promise.all(theirs.map((c) => c.ended)), new Promise((r) => setTimeout(() => r('timeout'), 5000))]);
    expect(ended).not.toBe('timeout');
    for (const [name, cs] of byReplica) {
      if (name === victim) continue;
      for (const c of cs) expect((await c.get('/tasks/1')).status).toBe(200);
    }
    for (const c of conns.splice(0)) c.socket.destroy();
  });

  it('a SIGTERMed replica closes its idle handed-over connections and exits 0 at once, not at their keep-alive timeout', async () => {
    await waitFor(() => d.replicas().filter((r) => r.ready).length === 3, 15_000);
    const c = await open();
    const victim = await c.replica();
    const t0 = clock.now();
    process.kill(-pidOf(victim), 'SIGTERM');
    // The keep-alive timeout is 5 s: a shutdown that waited for the idle connection would take that long.
    expect(await Promise.race([c.ended, new Promise((r) => setTimeout(() => r('timeout'), 3000))])).not.toBe('timeout');
    // Node holds an idle connection about 1 s past the keep-alive timeout: 4.5 s tells the two apart.
    expect(await waitFor(() => journal.events().some((e) => e.type === 'replica.exited' && e.target === victim), 4500)).toBe(true);
    const exit = journal.events().find((e) => e.type === 'replica.exited' && e.target === victim);
    expect(exit?.detail?.['code']).toBe(0);
    expect(exit!.atMs - t0).toBeLessThan(4500);
    for (const c of conns.splice(0)) c.socket.destroy();
  });
});

describe('handed-over connections when the replica dies before taking them', () => {
  it('resets every connection still on its way, none is left open in the harness', async () => {
    // A replica that announces a port and takes handles, frozen so it acknowledges none.
    const script = `process.on('message', () => {}); process.stdout.write(JSON.stringify({ event: 'listening', port: 1 }) + '\\n'); setInterval(() => {}, 1000);`;
    const proc = new ReplicaProcess('frozen', { command: process.execPath, args: ['-e', script], env: {}, cwd: ROOT, startTimeoutMs: 10_000 });
    const service = new HandoffService(new Journal(new SystemClock()));
    const port = await service.start();
    try {
      await proc.listening;
      service.add({ name: 'frozen', port: 1, replica: proc.handoff });
      proc.kill('SIGSTOP');
      const conns = await Promise.all([1, 2, 3].map(() => Conn.open(`http://127.0.0.1:${port}`)));
      for (const c of conns) c.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      // The first connection written to the channel (the kernel holds it for the replica, no process
      // does); the other two queued here behind its acknowledgement, which never comes.
      const heldHere = (): number => conns.filter((c) => serverSideOwners(port, c.localPort).join() === String(process.pid)).length;
      expect(await waitFor(() => heldHere() === 2, 2000)).toBe(true);
      proc.kill('SIGKILL');
      const ended = await Promise.race([Promise.all(conns.map((c) => c.ended)), new Promise((r) => setTimeout(() => r('timeout'), 3000))]);
      expect(ended).not.toBe('timeout');
      expect(conns.flatMap((c) => serverSideOwners(port, c.localPort))).toEqual([]);
    } finally {
      proc.kill('SIGKILL');
      await proc.exited;
      await service.close();
    }
  });
});

describe('a harness SIGKILLed while replicas hold handed-over connections', () => {
  it('leaves no process, port or temp file, and the clients see their connections end', { timeout: 60_000 }, async () => {
    const tmp = privateTmp();
    const idsFile = join(tmp.dir, 'ids.json');
    const child = spawn(process.execPath, ['--import', 'tsx', VICTIM, idsFile], { cwd: ROOT, stdio: ['pipe', 'inherit', 'inherit'], env: { ...process.env, TMPDIR: tmp.dir } });
    try {
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_c, signal) => resolve(signal)));
      expect(await waitFor(() => existsSync(idsFile), 45_000, 50)).toBe(true);
      const ids = JSON.parse(readFileSync(idsFile, 'utf8')) as { serviceUrl: string; replicas: number[]; started: number[] };
      rmSync(idsFile); // ours, not the run's
      const conns = await Promise.all([1, 2].map(() => Conn.open(ids.serviceUrl)));
      for (const c of conns) expect((await c.get('/tasks/1')).status).toBe(200);
      child.stdin?.write('die\n');
      expect(await exited).toBe('SIGKILL');
      const left = (): string[] => ids.started.filter(isAlive).map(describeProcess);
      // Bounds, not expected durations: the reaper gives PostgreSQL up to 5 s to stop before SIGKILL.
      await waitFor(() => left().length === 0, 15_000, 50);
      expect(left()).toEqual([]);
      expect(ids.replicas.length).toBe(2);
      expect(await Promise.race([Promise.all(conns.map((c) => c.ended)), new Promise((r) => setTimeout(() => r('timeout'), 5000))])).not.toBe('timeout');
      expect(stillListening([Number(new URL(ids.serviceUrl).port)])).toEqual([]);
      await waitFor(() => tmp.entries().length === 0, 5000, 50);
      expect(tmp.entries()).toEqual([]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(tmp.dir, { recursive: true, force: true });
    }
  });
});
