import { parser } from '@prometheus-io/lezer-promql';
import { isHostAllowed } from '../core/loopback.js';
import type { PrometheusPlan } from './plan.js';
import type { ScenarioDocument } from './schema.js';
import { readTargetTls } from './tls-files.js';

/** --prometheus and --prometheus-token-env: they override spec.observe.prometheus's url and bearerTokenEnv. */
export interface PrometheusOverride {
  url?: string;
  bearerTokenEnv?: string;
}

type Report = (path: string, expected: string, found: string) => void;

/**
 * An existing Prometheus for the servers' view (spec.observe.prometheus, or --prometheus): an
 * http(s) URL without credentials on a host the run may reach (loopback, or allowed like
 * spec.target's), a token variable that is set (when the run is to start), a selector that is only
 * label matchers, a CA file (relative to `baseDir`, the scenario's directory) read and checked now.
 */
export function prometheusPlan(
  doc: ScenarioDocument,
  override: PrometheusOverride | undefined,
  env: Readonly<Record<string, string | undefined>>,
  allowHosts: readonly string[],
  problem: Report,
  secretsRequired = true,
  baseDir = process.cwd(),
): PrometheusPlan | undefined {
  const spec = doc.spec.observe?.prometheus;
  const url = override?.url ?? spec?.url;
  if (url === undefined) {
    if (override?.bearerTokenEnv !== undefined) problem('--prometheus-token-env', 'a Prometheus to send the token to (--prometheus or spec.observe.prometheus.url)', 'none');
    return undefined;
  }
  const where = override?.url !== undefined ? '--prometheus' : 'spec.observe.prometheus.url';
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    problem(where, 'an http:// or https:// URL', JSON.stringify(url));
  }
  if (parsed) {
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') problem(where, 'an http:// or https:// URL', parsed.protocol);
    else if (parsed.username || parsed.password) problem(where, 'no credentials in the URL (a bearer token comes from bearerTokenEnv)', 'user info');
    else if (parsed.search || parsed.hash) problem(where, 'the Prometheus base URL, without a query or fragment', `${parsed.search}${parsed.hash}`);
    else if (!isHostAllowed(parsed.hostname, allowHosts)) problem(where, 'a loopback host, or a host listed in spec.target.allowHosts / --allow-host', parsed.hostname);
  }
  const tokenEnv = override?.bearerTokenEnv ?? spec?.bearerTokenEnv;
  const tokenWhere = override?.bearerTokenEnv !== undefined ? '--prometheus-token-env' : 'spec.observe.prometheus.bearerTokenEnv';
  if (tokenEnv !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(tokenEnv)) problem(tokenWhere, 'an environment variable name', JSON.stringify(tokenEnv));
    // `gameday validate` checks the variable's name only: a lint job need not hold the secret.
    else if (secretsRequired && !env[tokenEnv]) problem(tokenWhere, `the environment variable ${tokenEnv} set to the bearer token`, 'unset or empty');
  }
  const selector = spec?.selector;
  if (selector !== undefined) {
    const error = selectorError(selector);
    if (error) problem('spec.observe.prometheus.selector', 'label matchers in braces, such as {namespace="staging"}', error);
  }
  // Reached by the runners inside the cluster, never by gameday: no host policy, only its form.
  const remoteWriteUrl = spec?.remoteWriteUrl;
  if (remoteWriteUrl !== undefined) {
    const w = new URL(remoteWriteUrl);
    if (w.protocol !== 'http:' && w.protocol !== 'https:') problem('spec.observe.prometheus.remoteWriteUrl', 'an http:// or https:// URL', w.protocol);
    else if (w.username || w.password) problem('spec.observe.prometheus.remoteWriteUrl', 'no credentials in the URL', 'user info');
  }
  let tls: PrometheusPlan['tls'];
  if (spec?.tls !== undefined) {
    if (parsed?.protocol === 'http:') problem('spec.observe.prometheus.tls', `an https:// Prometheus URL (${where})`, url);
    if (Object.values(spec.tls).every((v) => v === undefined)) problem('spec.observe.prometheus.tls', 'ca (a private CA), cert and key (a client certificate), or serverName', 'an empty block');
    const read = readTargetTls(spec.tls, baseDir, problem, 'spec.observe.prometheus.tls');
    if (Object.keys(read).length > 0) tls = read;
  }
  return {
    url: url.replace(/\/+$/, ''),
    ...(tokenEnv !== undefined ? { bearerTokenEnv: tokenEnv } : {}),
    ...(selector !== undefined ? { selector: selector.trim() } : {}),
    ...(remoteWriteUrl !== undefined ? { remoteWriteUrl } : {}),
    ...(tls ? { tls } : {}),
  };
}

/** Why `selector` is not a bare `{…}` of label matchers (parsed with Prometheus's grammar), or undefined. */
export function selectorError(selector: string): string | undefined {
  const text = selector.trim();
  if (!text.startsWith('{') || !text.endsWith('}')) return JSON.stringify(selector);
  const tree = parser.parse(`up${text}`);
  let bad = false;
  tree.iterate({ enter: (n) => void (n.type.isError && (bad = true)) });
  const top = tree.topNode.firstChild;
  if (bad || top?.type.name !== 'VectorSelector' || top.to !== text.length + 2) return `${JSON.stringify(selector)} (not a label matcher list)`;
  return undefined;
}
