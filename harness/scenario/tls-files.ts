import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { Secret, type TargetTls } from '../load/loopback.js';

/** A PEM file larger than this is not a certificate bundle or a key. */
export const MAX_PEM_BYTES = 1024 * 1024;

type Report = (path: string, expected: string, found: string) => void;

export interface TlsDocument {
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  serverName?: string | undefined;
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const TARGET_TLS = 'spec.target.tls';

/**
 * spec.target.tls (or another block of the same shape at `at`, such as spec.observe.prometheus.tls) → PEM material, read and checked now (files relative to the scenario's
 * directory): every certificate parses, the key parses and belongs to the certificate, and
 * OpenSSL accepts them together. Problems name the file, never its content.
 */
export function readTargetTls(doc: TlsDocument, baseDir: string, problem: Report, at = TARGET_TLS): TargetTls {
  const tls: TargetTls = {};
  const file = (name: 'ca' | 'cert' | 'key'): { path: string; text: string } | undefined => {
    const given = doc[name];
    if (given === undefined) return undefined;
    const path = isAbsolute(given) ? given : resolve(baseDir, given);
    const read = readPem(path);
    if ('error' in read) {
      problem(`${at}.${name}`, `a readable PEM file of at most ${MAX_PEM_BYTES / 1024} KiB (relative to the scenario file)`, `${read.error}: ${path}`);
      return undefined;
    }
    return { path, text: read.text };
  };

  const ca = file('ca');
  if (ca && certificates(ca, `${at}.ca`, 'CA certificates', problem)) tls.ca = ca.text;

  if ((doc.cert === undefined) !== (doc.key === undefined)) {
    const missing = doc.cert === undefined ? 'cert' : 'key';
    problem(`${at}.${missing}`, `tls.cert and tls.key together (a client certificate and its private key)`, 'nothing');
  }
  const cert = file('cert');
  const leaf = cert ? certificates(cert, `${at}.cert`, 'a client certificate', problem)?.[0] : undefined;
  if (cert && leaf) {
    const validTo = new Date(leaf.validTo);
    if (validTo.getTime() < Date.now()) problem(`${at}.cert`, 'a certificate valid now', `one that expired ${validTo.toISOString()}: ${cert.path}`);
    else tls.cert = cert.text;
  }
  const key = file('key');
  const keyObject = key ? privateKey(key, problem, `${at}.key`) : undefined;
  if (key && keyObject) {
    if (leaf && !leaf.checkPrivateKey(keyObject)) problem(`${at}.key`, `the private key of tls.cert (${cert?.path})`, `a key that does not match it: ${key.path}`);
    else tls.key = new Secret(key.text);
  }
  if (doc.serverName !== undefined) tls.serverName = doc.serverName;

  // The last word is OpenSSL's: what it would refuse at the first connection is refused now.
  if (tls.ca !== undefined || tls.cert !== undefined) {
    try {
      createSecureContext({ ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.cert && tls.key ? { cert: tls.cert, key: tls.key.reveal() } : {}) });
    } catch (err) {
      problem(at, 'files OpenSSL accepts together', (err as NodeJS.ErrnoException).code ?? 'an error from OpenSSL');
    }
  }
  return tls;
}

/** Every certificate block of the file, parsed; undefined (and a problem) when there is none or one is malformed. */
function certificates(f: { path: string; text: string }, at: string, what: string, problem: Report): X509Certificate[] | undefined {
  const blocks = f.text.match(CERT_BLOCK) ?? [];
  const expected = `a PEM file of ${what} (-----BEGIN CERTIFICATE-----)`;
  if (blocks.length === 0) {
    problem(at, expected, `no certificate in ${f.path}`);
    return undefined;
  }
  const parsed: X509Certificate[] = [];
  for (const [i, block] of blocks.entries()) {
    try {
      parsed.push(new X509Certificate(block));
    } catch {
      problem(at, expected, `a malformed certificate (block ${i + 1}) in ${f.path}`);
      return undefined;
    }
  }
  return parsed;
}

function privateKey(f: { path: string; text: string }, problem: Report, at: string): KeyObject | undefined {
  const expected = 'an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----, RSA or EC)';
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(f.text)) {
    problem(at, expected, `an encrypted key (a passphrase is not supported): ${f.path}`);
    return undefined;
  }
  try {
    const key = createPrivateKey({ key: f.text, format: 'pem' });
    return key;
  } catch {
    // The library's message is not repeated: nothing of a key file reaches an error.
    problem(at, expected, `no private key that parses in ${f.path}`);
    return undefined;
  }
}

/**
 * A small regular file's text, refusing a directory, FIFO or device before reading it (the open
 * is non-blocking, so a FIFO cannot hang validation), and at most MAX_PEM_BYTES + 1 bytes read.
 */
function readPem(path: string): { text: string } | { error: string } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    return { error: (err as NodeJS.ErrnoException).code ?? 'unreadable' };
  }
  try {
    if (!fstatSync(fd).isFile()) return { error: 'not a regular file' };
    const buf = Buffer.alloc(MAX_PEM_BYTES + 1);
    let length = 0;
    while (length < buf.length) {
      const n = readSync(fd, buf, length, buf.length - length, length);
      if (n === 0) break;
      length += n;
    }
    if (length > MAX_PEM_BYTES) return { error: `larger than ${MAX_PEM_BYTES} bytes` };
    return { text: buf.subarray(0, length).toString('utf8') };
  } catch (err) {
    return { error: (err as NodeJS.ErrnoException).code ?? 'unreadable' };
  } finally {
    closeSync(fd);
  }
}
