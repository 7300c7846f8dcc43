import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway PKI in a temp directory: a CA, a server certificate and a client certificate it signed. */
export interface TestPki {
  dir: string;
  /** File paths. */
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A second CA and a client certificate it signed: valid PEM, but not trusted by the server. */
  otherCaCert: string;
  otherClientCert: string;
  otherClientKey: string;
  /** The server certificate's DNS name (its other name is IP 127.0.0.1). */
  serverName: string;
  read(file: string): string;
  remove(): void;
}

const SERVER_NAME = 'orders.staging.test';

/**
 * node:crypto cannot sign certificates, so the `openssl` CLI makes them: P-256 keys (fast),
 * valid for one day. The server certificate names IP 127.0.0.1 and DNS orders.staging.test.
 */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'gameday-pki-'));
  const p = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
  };
  const key = (name: string): void => openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p(name));
  const ca = (name: string, cn: string): void => {
    key(`${name}.key`);
    openssl('req', '-x509', '-new', '-key', p(`${name}.key`), '-out', p(`${name}.pem`), '-days', '1', '-subj', `/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  };
  const leaf = (name: string, caName: string, cn: string, ext: string): void => {
    key(`${name}.key`);
    openssl('req', '-new', '-key', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', `/CN=${cn}`);
    writeFileSync(p(`${name}.ext`), ext);
    openssl('x509', '-req', '-in', p(`${name}.csr`), '-CA', p(`${caName}.pem`), '-CAkey', p(`${caName}.key`), '-CAcreateserial',
      '-out', p(`${name}.crt`), '-days', '1', '-extfile', p(`${name}.ext`));
  };
  try {
    ca('ca', 'gameday test CA');
    leaf('server', 'ca', SERVER_NAME, `basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:${SERVER_NAME}\n`);
    leaf('client', 'ca', 'gameday load client', 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
    ca('other-ca', 'another test CA');
    leaf('other-client', 'other-ca', 'untrusted client', 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    caCert: p('ca.pem'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    otherCaCert: p('other-ca.pem'),
    otherClientCert: p('other-client.crt'),
    otherClientKey: p('other-client.key'),
    serverName: SERVER_NAME,
    read: (file) => readFileSync(file, 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
