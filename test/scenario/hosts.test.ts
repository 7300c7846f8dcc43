import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '../../harness/core/errors.js';
import { canonicalHost, isHostAllowed } from '../../harness/core/loopback.js';
import { planFromText } from '../../harness/scenario/index.js';
import { runCli } from '../helpers/cli.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';

/**
 * Reaching real services: a non-loopback spec.target.url only when its host is allowed, exactly;
 * TLS files read and checked at validation. Nothing here sends a request anywhere.
 */

function scenario(target: string): string {
  return `
apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: staging }
spec:
  duration: 30s
  warmup: 2s
  target: ${target}
  workload:
    requests: [{ name: health, method: GET, path: /health }]
`;
}

function judge(text: string, allowHosts: string[] = [], file = 'x.yaml'): { problems: Problem[]; plan?: ReturnType<typeof planFromText>['plan'] } {
  const r = planFromText(text, { file, env: {}, allowHosts });
  return r.problems ? { problems: r.problems } : { problems: [], plan: r.plan };
}

const REFUSED = { path: 'spec.target.url', expected: 'a loopback host, or a host listed in spec.target.allowHosts / --allow-host' };

describe('target host policy at validation', () => {
  it('refuses a non-loopback host nobody allowed, naming the host', () => {
    const { problems } = judge(scenario('{ url: "https://orders.staging.example.com:8443" }'));
    expect(problems).toEqual([{ file: 'x.yaml', ...REFUSED, found: 'orders.staging.example.com' }]);
  });

  it('accepts it when spec.target.allowHosts lists it (case-insensitive) and carries the list in the plan', () => {
    const { problems, plan } = judge(scenario('{ url: "https://orders.staging.example.com:8443", allowHosts: [Orders.Staging.EXAMPLE.com] }'));
    expect(problems).toEqual([]);
    expect(plan?.allowHosts).toEqual(['orders.staging.example.com']);
    expect(plan?.platform).toMatchObject({ kind: 'external', url: 'https://orders.staging.example.com:8443', allowHosts: ['orders.staging.example.com'] });
  });

  it('accepts it when --allow-host names it (PlanContext.allowHosts), merged with the scenario list', () => {
    const text = scenario('{ url: "http://10.1.2.3:8000", allowHosts: [orders.staging.example.com] }');
    expect(judge(text).problems).toEqual([{ file: 'x.yaml', ...REFUSED, found: '10.1.2.3' }]);
    const { problems, plan } = judge(text, ['10.1.2.3']);
    expect(problems).toEqual([]);
    expect(plan?.allowHosts).toEqual(['orders.staging.example.com', '10.1.2.3']);
  });

  it('matches exactly: no parent domain, subdomain, look-alike suffix or other port trick', () => {
    const refused = (url: string, allow: string[]): string | undefined => judge(scenario(`{ url: "${url}", allowHosts: [${allow.join(', ')}] }`)).problems.find((p) => p.path === 'spec.target.url')?.found;
    expect(refused('https://orders.example.com', ['example.com'])).toBe('orders.example.com');
    expect(refused('https://example.com', ['orders.example.com'])).toBe('example.com');
    expect(refused('https://example.com.evil.test', ['example.com'])).toBe('example.com.evil.test');
    expect(refused('https://xexample.com', ['example.com'])).toBe('xexample.com');
    expect(refused('https://example.com:9999', ['example.com'])).toBeUndefined();
    // IPv6 and IPv4 are compared in their canonical forms.
    expect(refused('http://[2001:DB8:0::1]:80', ['"2001:db8::1"'])).toBeUndefined();
    expect(refused('http://[2001:db8::2]:80', ['"2001:db8::1"'])).toBe('[2001:db8::2]');
  });

  it('always allows loopback: 127.0.0.0/8, [::1], localhost, over http or https', () => {
    for (const url of ['http://127.0.0.2:8080', 'http://[::1]:3000', 'https://localhost:8443', 'https://127.0.0.1']) {
      expect(judge(scenario(`{ url: "${url}" }`)).problems).toEqual([]);
    }
  });

  it('refuses allowHosts entries that are not bare hosts (a wildcard is not a pattern here)', () => {
    const { problems } = judge(scenario('{ url: "http://127.0.0.1:8000", allowHosts: ["*.example.com", "https://a.example.com", "a.example.com:443", "a.example.com/x", ""] }'));
    expect(problems.map((p) => p.path)).toEqual([0, 1, 2, 3, 4].map((i) => `spec.target.allowHosts[${i}]`));
    expect(problems[0]?.expected).toMatch(/^a host name or IP address \(no scheme, port, path or wildcard\)/);
  });

  it('refuses other schemes and credentials in the URL', () => {
    const paths = (url: string) => judge(scenario(`{ url: "${url}" }`)).problems.map((p) => `${p.path}: ${p.expected}`);
    expect(paths('ftp://127.0.0.1/x')).toEqual(['spec.target.url: an http:// or https:// URL']);
    expect(paths('http://user:pw@127.0.0.1/')).toEqual(['spec.target.url: no credentials in the URL']);
  });

  it('canonicalHost and isHostAllowed: the one rule the validator and the drivers share', () => {
    expect(canonicalHost('Orders.Example.COM')).toBe('orders.example.com');
    expect(canonicalHost('::1')).toBe('[::1]');
    expect(canonicalHost('[2001:DB8::1]')).toBe('[2001:db8::1]');
    for (const bad of ['*.example.com', 'a.example.com:80', 'http://a', 'a/b', 'u@a', '', ' ', 'a b']) expect(canonicalHost(bad)).toBeUndefined();
    expect(isHostAllowed('localhost', [])).toBe(true);
    expect(isHostAllowed('127.9.9.9', [])).toBe(true);
    expect(isHostAllowed('::1', [])).toBe(true);
    expect(isHostAllowed('a.example.com', [])).toBe(false);
    expect(isHostAllowed('A.example.com', ['a.example.com'])).toBe(true);
    expect(isHostAllowed('b.a.example.com', ['a.example.com'])).toBe(false);
    expect(isHostAllowed('2001:db8::1', ['[2001:db8::1]'])).toBe(true);
  });
});

describe('target TLS files at validation', () => {
  let pki: TestPki;
  let dir: string;
  beforeAll(() => {
    pki = makeTestPki();
    dir = mkdtempSync(join(tmpdir(), 'gameday-tls-scenario-'));
    mkdirSync(join(dir, 'certs'));
    writeFileSync(join(dir, 'certs', 'ca.pem'), pki.read(pki.caCert));
    writeFileSync(join(dir, 'certs', 'client.crt'), pki.read(pki.clientCert));
    writeFileSync(join(dir, 'certs', 'client.key'), pki.read(pki.clientKey));
    writeFileSync(join(dir, 'certs', 'other.key'), pki.read(pki.otherClientKey));
    writeFileSync(join(dir, 'certs', 'garbage.pem'), '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
    writeFileSync(join(dir, 'certs', 'empty.pem'), 'hello\n');
  }, 60_000);
  afterAll(() => {
    pki?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const file = () => join(dir, 'scenario.yaml');
  const tlsScenario = (tls: string, url = 'https://127.0.0.1:8443') => scenario(`{ url: "${url}", tls: ${tls} }`);

  it('reads ca, cert and key relative to the scenario file into the plan; the key never serialises', () => {
    const { problems, plan } = judge(tlsScenario('{ ca: certs/ca.pem, cert: certs/client.crt, key: ./certs/client.key, serverName: orders.staging.test }'), [], file());
    expect(problems).toEqual([]);
    if (plan?.platform.kind !== 'external') throw new Error('expected an external platform');
    const tls = plan.platform.tls;
    expect(tls?.ca).toBe(pki.read(pki.caCert));
    expect(tls?.cert).toBe(pki.read(pki.clientCert));
    expect(tls?.key?.reveal()).toBe(pki.read(pki.clientKey));
    expect(tls?.serverName).toBe('orders.staging.test');
    const keyBody = pki.read(pki.clientKey).split('\n')[1] as string;
    expect(JSON.stringify(plan)).not.toContain(keyBody);
    expect(JSON.stringify(plan)).toContain('"key":"[redacted]"');
    expect(String(tls?.key)).toBe('[redacted]');
  });

  it('refuses a missing, malformed or empty file with its path, and a key that is not the certificate\'s', () => {
    const found = (tls: string): string[] => judge(tlsScenario(tls), [], file()).problems.map((p) => `${p.path}: expected ${p.expected}, found ${p.found}`);
    expect(found('{ ca: certs/missing.pem }')).toEqual([
      `spec.target.tls.ca: expected a readable PEM file of at most 1024 KiB (relative to the scenario file), found ENOENT: ${join(dir, 'certs', 'missing.pem')}`,
    ]);
    expect(found('{ ca: certs }')).toEqual([
      `spec.target.tls.ca: expected a readable PEM file of at most 1024 KiB (relative to the scenario file), found not a regular file: ${join(dir, 'certs')}`,
    ]);
    expect(found('{ ca: certs/garbage.pem }')).toEqual([
      `spec.target.tls.ca: expected a PEM file of CA certificates (-----BEGIN CERTIFICATE-----), found a malformed certificate (block 1) in ${join(dir, 'certs', 'garbage.pem')}`,
    ]);
    expect(found('{ ca: certs/empty.pem }')).toEqual([
      `spec.target.tls.ca: expected a PEM file of CA certificates (-----BEGIN CERTIFICATE-----), found no certificate in ${join(dir, 'certs', 'empty.pem')}`,
    ]);
    expect(found('{ cert: certs/client.crt, key: certs/empty.pem }')).toEqual([
      `spec.target.tls.key: expected an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----, RSA or EC), found no private key that parses in ${join(dir, 'certs', 'empty.pem')}`,
    ]);
    expect(found('{ cert: certs/client.crt, key: certs/other.key }')).toEqual([
      `spec.target.tls.key: expected the private key of tls.cert (${join(dir, 'certs', 'client.crt')}), found a key that does not match it: ${join(dir, 'certs', 'other.key')}`,
    ]);
    expect(found('{ cert: certs/client.crt }')).toEqual(['spec.target.tls.key: expected tls.cert and tls.key together (a client certificate and its private key), found nothing']);
    expect(found('{ ca: certs/ca.pem }').length).toBe(0);
    expect(judge(tlsScenario('{ ca: certs/ca.pem }', 'http://127.0.0.1:8000'), [], file()).problems.map((p) => `${p.path}: ${p.expected}`)).toEqual([
      'spec.target.tls: tls only with an https:// spec.target.url',
    ]);
  });

  it('never puts key material in a problem', () => {
    const keyText = pki.read(pki.clientKey);
    const { problems } = judge(tlsScenario('{ cert: certs/client.crt, key: certs/other.key, ca: certs/client.key }'), [], file());
    expect(problems.length).toBeGreaterThan(0);
    const all = JSON.stringify(problems);
    for (const line of keyText.split('\n').filter((l) => l.length > 20)) expect(all).not.toContain(line);
  });
});

describe('the CLI: --allow-host on validate and run', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gameday-hosts-cli-'));
    writeFileSync(join(dir, 'staging.yaml'), scenario('{ url: "https://orders.staging.example.com:8443" }'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('validate: exit 2 naming the host without it, exit 0 with --allow-host, exit 2 for a malformed --allow-host', async () => {
    const file = join(dir, 'staging.yaml');
    const refused = await runCli(['validate', file]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${file}: spec.target.url: expected a loopback host, or a host listed in spec.target.allowHosts / --allow-host, found orders.staging.example.com`);
    const allowed = await runCli(['validate', '--allow-host', 'ORDERS.staging.example.com', '--allow-host', 'other.example.com', file]);
    expect(allowed.stderr).toBe('');
    expect(allowed.code).toBe(0);
    const bad = await runCli(['validate', '--allow-host', '*.example.com', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected a host name or IP address (no scheme, port, path or wildcard)');
  }, 60_000);

  it('run: exit 2 before anything starts when the host is not allowed (no out directory is created)', async () => {
    const out = join(dir, 'out');
    const r = await runCli(['run', join(dir, 'staging.yaml'), '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('spec.target.url: expected a loopback host, or a host listed in spec.target.allowHosts / --allow-host, found orders.staging.example.com');
    const { existsSync } = await import('node:fs');
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});
