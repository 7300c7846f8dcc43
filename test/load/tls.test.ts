import { createServer, type Server } from 'node:https';
import net, { type AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Client } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../../harness/core/clock.js';
import { Journal } from '../../harness/core/journal.js';
import { sendRequest } from '../../harness/faults/http.js';
import { ExternalPlatform } from '../../harness/platform/external.js';
import { runCli } from '../helpers/cli.js';
import { createLoadDriver } from '../../harness/load/index.js';
import { guardedConnector, HostNotAllowedError, Secret, type TargetAccess, type TargetTls } from '../../harness/load/loopback.js';
import type { LoadPlan, LoadSummary } from '../../harness/load/types.js';
import type { WorkloadPlan } from '../../harness/load/workload-plan.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';
import { RecordingSink, delay, realClock } from './recording-sink.js';

/**
 * TLS against a real https server on 127.0.0.1 that requires a client certificate signed by a
 * throwaway CA (made with the openssl CLI). Nothing leaves loopback.
 */

const WORKLOAD: WorkloadPlan = { pools: [], requests: [{ name: 'ping', weight: 1, method: 'GET', path: '/ping', headers: {}, capture: {} }] };
const openPlan: Extract<LoadPlan, { model: 'open' }> = { model: 'open', ratePerSec: 100, connections: 4, maxInFlight: 200, timeoutMs: 2_000, workload: WORKLOAD, seed: 1 };
const closedPlan: Extract<LoadPlan, { model: 'closed' }> = { model: 'closed', connections: 3, timeoutMs: 2_000, workload: WORKLOAD, seed: 1 };

let pki: TestPki;
let server: Server;
let url: string;
/** Requests the server answered, and the client certificate subjects it saw. */
let served = 0;
const clientNames = new Set<string>();
/** Handshakes the server refused, by error code. */
const refusedHandshakes: string[] = [];
/** Values the end-to-end run sent in /ping/<id> (discovered from /items). */
const pinged = new Set<string>();

beforeAll(async () => {
  pki = makeTestPki();
  server = createServer(
    { key: pki.read(pki.serverKey), cert: pki.read(pki.serverCert), ca: pki.read(pki.caCert), requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      served++;
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      if (peer.subject) clientNames.add(String(peer.subject.CN));
      if (req.url === '/items') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ items: [{ id: 'a1' }, { id: 'b2' }] }));
      } else {
        if (req.url?.startsWith('/ping/')) pinged.add(req.url.slice('/ping/'.length));
        res.end('pong');
      }
    },
  );
  server.on('tlsClientError', (err: NodeJS.ErrnoException) => refusedHandshakes.push(err.code ?? err.message));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  pki?.remove();
});

beforeEach(() => {
  served = 0;
  clientNames.clear();
  refusedHandshakes.length = 0;
});

/**
 * Every outgoing connection attempt of this process while a test runs: net.connect and
 * tls.connect both end in net.Socket.prototype.connect (a TLSSocket is a net.Socket).
 */
let connectSpy: MockInstance;
const connectAttempts = (): unknown[][] => connectSpy.mock.calls;
beforeEach(() => {
  connectSpy = vi.spyOn(net.Socket.prototype, 'connect');
});
afterEach(() => {
  connectSpy.mockRestore();
});

const fullTls = (): TargetTls => ({ ca: pki.read(pki.caCert), cert: pki.read(pki.clientCert), key: new Secret(pki.read(pki.clientKey)) });

async function load(plan: LoadPlan, access: TargetAccess, ms: number): Promise<{ sink: RecordingSink; summary: LoadSummary }> {
  const sink = new RecordingSink();
  const run = createLoadDriver(plan, realClock()).start({ url, pools: new Map(), ...access }, sink, new AbortController().signal);
  await delay(ms);
  run.stop();
  return { sink, summary: await run.done };
}

/** One request through the same connector the drivers use: the error code, or the status. */
async function once(access: TargetAccess): Promise<{ status?: number; code?: string }> {
  const client = new Client(url, { connect: guardedConnector(access, 2_000) });
  try {
    const res = await client.request({ method: 'GET', path: '/ping' });
    await res.body.dump();
    return { status: res.statusCode };
  } catch (err) {
    return { code: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
  } finally {
    await client.destroy();
  }
}

describe('https target with a private CA and a client certificate', () => {
  it('open model: every request answered over TLS, the server saw the client certificate', async () => {
    const { sink, summary } = await load(openPlan, { tls: fullTls() }, 1_000);
    expect(sink.errors).toEqual([]);
    expect(sink.responses.length).toBeGreaterThan(50);
    expect(sink.statuses()).toEqual({ '200': sink.responses.length });
    expect(summary.completed).toBe(summary.sent);
    expect(served).toBe(sink.responses.length);
    expect([...clientNames]).toEqual(['gameday load client']);
    expect(connectAttempts().length).toBeGreaterThan(0);
  });

  it('closed model: every request answered over TLS, the server saw the client certificate', async () => {
    const { sink } = await load(closedPlan, { tls: fullTls() }, 600);
    expect(sink.errors).toEqual([]);
    expect(sink.responses.length).toBeGreaterThan(10);
    expect(sink.statuses()).toEqual({ '200': sink.responses.length });
    expect(served).toBe(sink.responses.length);
    expect([...clientNames]).toEqual(['gameday load client']);
  });

  it('tls.serverName is what the server certificate is checked against', async () => {
    expect(await once({ tls: { ...fullTls(), serverName: pki.serverName } })).toEqual({ status: 200 });
    expect(await once({ tls: { ...fullTls(), serverName: 'other.staging.test' } })).toEqual({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });
});

describe('https target: TLS failures are transport errors, nothing is served', () => {
  it('without tls.ca (system CAs only) the private CA is not trusted: SELF_SIGNED_CERT_IN_CHAIN, kind "tls"', async () => {
    const noCa: TargetTls = { cert: pki.read(pki.clientCert), key: new Secret(pki.read(pki.clientKey)) };
    expect(await once({ tls: noCa })).toEqual({ code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    const { sink } = await load(closedPlan, { tls: noCa }, 300);
    expect(sink.responses).toEqual([]);
    expect(sink.errors.length).toBeGreaterThan(0);
    expect(sink.errorKinds()).toEqual({ tls: sink.errors.length });
    expect(served).toBe(0);
  });

  it('trusting another CA fails the same way', async () => {
    expect(await once({ tls: { ...fullTls(), ca: pki.read(pki.otherCaCert) } })).toEqual({ code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    expect(served).toBe(0);
  });

  it('without a client certificate the server refuses the handshake', async () => {
    const result = await once({ tls: { ca: pki.read(pki.caCert) } });
    expect(result.status).toBeUndefined();
    // TLS 1.3: the client's side of the handshake completes first; the server then refuses the
    // missing certificate and closes, which the client meets as a closed connection.
    expect(result.code).toBe('UND_ERR_SOCKET');
    expect(refusedHandshakes).toContain('ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
    const { sink } = await load(openPlan, { tls: { ca: pki.read(pki.caCert) } }, 300);
    expect(sink.responses).toEqual([]);
    expect(sink.errors.length).toBeGreaterThan(0);
    expect(sink.errorKinds()).toEqual({ closed: sink.errors.length });
    expect(served).toBe(0);
  });

  it('a client certificate from a CA the server does not trust is refused too', async () => {
    const other: TargetTls = { ca: pki.read(pki.caCert), cert: pki.read(pki.otherClientCert), key: new Secret(pki.read(pki.otherClientKey)) };
    expect((await once({ tls: other })).status).toBeUndefined();
    expect(served).toBe(0);
  });
});

describe('host policy at the drivers: a host that was not allowed is refused before any socket', () => {
  const target = (url: string, allowHosts: string[]) => ({ url, pools: new Map<string, readonly string[]>(), allowHosts, tls: fullTls() });

  it.each([
    ['open', openPlan],
    ['closed', closedPlan],
  ] as const)('%s model: start() throws for a non-allowed host; no socket was opened', async (_name, plan) => {
    const start = () => createLoadDriver(plan, realClock()).start(target('https://orders.staging.example.com:8443', ['other.example.com']), new RecordingSink(), new AbortController().signal);
    expect(start).toThrow(/load target "https:\/\/orders\.staging\.example\.com:8443" is not loopback and not an allowed host.*found host orders\.staging\.example\.com/);
    await delay(50);
    expect(connectAttempts()).toEqual([]);
  });

  it('the connector itself refuses a non-allowed host (whatever origin a dispatcher was built for), without a socket', async () => {
    const connect = guardedConnector({ allowHosts: ['a.example.com'] }, 1_000);
    const err = await new Promise<Error | null>((resolve) =>
      connect({ hostname: 'b.example.com', host: 'b.example.com:443', protocol: 'https:', port: '443' }, (...args) => resolve(args[0])),
    );
    expect(err).toBeInstanceOf(HostNotAllowedError);
    expect(err?.message).toMatch(/connection is not loopback and not an allowed host.*found host b\.example\.com/);
    // A Client built for a non-allowed origin gets the same refusal on its first request.
    const client = new Client('https://b.example.com', { connect });
    await expect(client.request({ method: 'GET', path: '/' })).rejects.toThrow(HostNotAllowedError);
    await client.destroy();
    expect(connectAttempts()).toEqual([]);
  });

  it('an http fault request is held to the same policy at its socket, even in a plan that skipped validation', async () => {
    const action = { method: 'POST' as const, url: 'https://flags.staging.example.com/toggle', headers: {}, timeoutMs: 1_000, allowHosts: ['orders.staging.example.com'] };
    const result = await sendRequest(action);
    expect(result).toMatchObject({ ok: false, error: 'GAMEDAY_HOST_NOT_ALLOWED' });
    expect(connectAttempts()).toEqual([]);
    // The same sender reaches an allowed host: loopback here, over TLS with the system CAs refusing the private CA.
    expect(await sendRequest({ ...action, url: `${url}/ping` })).toMatchObject({ ok: false, error: 'SELF_SIGNED_CERT_IN_CHAIN' });
    expect(connectAttempts().length).toBeGreaterThan(0);
  });
});

describe('the whole path: spec.target over https with a client certificate', () => {
  it('ExternalPlatform waits for /health through the policy and TLS; refuses a host not allowed without a socket', async () => {
    const clock = new SystemClock();
    const ok = new ExternalPlatform({ kind: 'external', url, tls: fullTls() }, { journal: new Journal(clock) }, clock);
    await expect(ok.deploy(AbortSignal.timeout(5_000))).resolves.toMatchObject({ serviceUrl: url });
    expect(served).toBe(1);
    connectSpy.mockClear();
    const refused = new ExternalPlatform({ kind: 'external', url: 'https://orders.staging.example.com', tls: fullTls() }, { journal: new Journal(clock) }, clock);
    await expect(refused.deploy(AbortSignal.timeout(5_000))).rejects.toThrow(/not loopback and not an allowed host/);
    expect(connectAttempts()).toEqual([]);
  });

  it('gameday run loads it end to end: PEM files next to the scenario, pool values discovered over the same TLS, exit 0, every request served', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gameday-tls-run-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), pki.read(pki.caCert));
      writeFileSync(join(dir, 'client.crt'), pki.read(pki.clientCert));
      writeFileSync(join(dir, 'client.key'), pki.read(pki.clientKey));
      writeFileSync(
        join(dir, 'https.yaml'),
        `apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: https-target }
spec:
  duration: 4s
  warmup: 1s
  target: { url: "${url}", tls: { ca: ./ca.pem, cert: ./client.crt, key: ./client.key, serverName: ${pki.serverName} } }
  workload:
    pools: { ids: { discover: { path: /items, items: /items/*/id } } }
    requests: [{ name: ping, method: GET, path: "/ping/{{pick ids}}", expect: { status: [200] } }]
  load: { model: open, rate: 50, connections: 4 }
  checks:
    - { id: TLS-1, name: every request served, metric: requests.failures, during: [warmup, baseline], target: "== 0" }
`,
      );
      const r = await runCli(['run', join(dir, 'https.yaml'), '--out', join(dir, 'out'), '--quiet']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const result = JSON.parse(readFileSync(join(dir, 'out', 'result.json'), 'utf8')) as { requests: { responses: number; failures: number } };
      expect(result.requests.failures).toBe(0);
      expect(result.requests.responses).toBeGreaterThan(100);
      expect([...clientNames]).toEqual(['gameday load client']);
      expect([...pinged].sort()).toEqual(['a1', 'b2']);
      // The key never reaches the outputs.
      const keyLine = pki.read(pki.clientKey).split('\n')[1] as string;
      for (const f of ['result.json', 'summary.md', 'report.html']) expect(readFileSync(join(dir, 'out', f), 'utf8')).not.toContain(keyLine);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
