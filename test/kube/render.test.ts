import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_LABEL } from '../../harness/kube/index.js';
import type { KubernetesOverride } from '../../harness/kube/from-scenario.js';
import { renderCommand } from '../../harness/cli/render-command.js';
import { validateCommand } from '../../harness/cli/validate-command.js';
import { runCli } from '../helpers/cli.js';
import { schemaProblems } from './objects-schema.js';

/**
 * `gameday render` through the real CLI: the YAML a cluster run applies, byte for byte against
 * golden files (UPDATE_GOLDEN=1 rewrites them), every document valid against its schema; the
 * guardrails refused at validation with exact messages, exit 2, nothing started. Bad input is
 * judged by the commands' own functions in this process (the CLI adds only the flags' parsing).
 */

const GOLDEN = 'test/kube/golden';
const PASSWORD = { GAMEDAY_POSTGRES_PASSWORD: 'golden-password-0123' };
const render = (args: string[], env: Record<string, string> = PASSWORD) => runCli(['render', ...args], env);

async function golden(name: string, args: string[]): Promise<string> {
  const { code, stdout, stderr } = await render([...args, '--run-id', 'golden']);
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  const file = `${GOLDEN}/${name}`;
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(file, stdout);
  expect(stdout).toBe(readFileSync(file, 'utf8'));
  return stdout;
}

const documents = (text: string): any[] => parseAllDocuments(text).map((d) => d.toJS()).filter(Boolean);

describe('gameday render --platform kubernetes', () => {
  it('scenarios/pod-kill.yaml, the local Game Day, renders for a cluster as-is (golden)', async () => {
    const text = await golden('pod-kill.yaml', ['scenarios/pod-kill.yaml', '--platform', 'kubernetes']);
    expect(documents(text).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Secret/postgres',
      'Service/postgres',
      'StatefulSet/postgres',
      'Job/task-api-seed',
      'Service/task-api',
      'Deployment/task-api',
      'PodChaos/kill-one-replica-golden',
    ]);
    expect(text.startsWith('---\n# gameday render: scenario pod-kill, run golden\n# context: (current context of KUBECONFIG, or in-cluster); namespace: staging\n')).toBe(true);
  });

  it('every fault kind, a custom image, context, labels and pool (golden); every document valid, every object labelled with the run', async () => {
    const text = await golden('all-faults.yaml', [`${GOLDEN}/all-faults.scenario.yaml`]);
    const objects = documents(text);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).slice(6)).toEqual(['PodChaos/kill-two-golden', 'NetworkChaos/db-slow-golden', 'Job/table-lock-golden', 'Job/connections-held-golden']);
    for (const o of objects) {
      expect(await schemaProblems(o), `${o.kind}/${o.metadata.name}`).toEqual([]);
      expect(o.metadata.labels[RUN_LABEL], `${o.kind}/${o.metadata.name}`).toBe('golden');
      expect(o.metadata.namespace).toBe('gameday-ci');
    }
    expect(text).toContain('# fault connection-leak (pool-exhaustion leak) at 1m50s for 5s: no object');
  });

  it('without --run-id, each rendering has a fresh run id and password, as each run has', async () => {
    const texts: string[] = [];
    for (let i = 0; i < 2; i++) {
      const code = await renderCommand('scenarios/pod-kill.yaml', { kubernetes: { platform: 'kubernetes' }, write: (t) => texts.push(t) }, { info: () => undefined, error: (l) => texts.push(l) });
      expect(code).toBe(0);
    }
    const runOf = (t: string) => t.match(/gameday\.dev\/run: ([a-z0-9]+)/)![1];
    const passwordOf = (t: string) => t.match(/POSTGRES_PASSWORD: ([0-9a-f]{32})\n/)![1];
    expect(runOf(texts[0]!)).not.toBe(runOf(texts[1]!));
    expect(passwordOf(texts[0]!)).not.toBe(passwordOf(texts[1]!));
  });
});

describe('guardrails and bad input: exit 2 with a precise message, nothing rendered or started', () => {
  let dir: string;
  const write = (name: string, platform: string, faults = ''): string => {
    const file = join(dir, name);
    writeFileSync(file, `apiVersion: gameday.dev/v1alpha1\nkind: Scenario\nmetadata: { name: bad }\nspec:\n  duration: 45s\n  ${platform}\n${faults ? `  faults: ${faults}\n` : ''}`);
    return file;
  };
  /** The commands' functions in this process: their exit code and what they printed. */
  const lines = () => {
    const printed: string[] = [];
    return { printed, out: { info: (l: string) => printed.push(l), error: (l: string) => printed.push(l) } };
  };
  const validateHere = async (files: string[], kubernetes?: KubernetesOverride) => {
    const { printed, out } = lines();
    return { code: await validateCommand(files, out, [], kubernetes), printed };
  };
  const renderHere = async (file: string, opts: { kubernetes?: KubernetesOverride; runId?: string; databasePassword?: string }) => {
    const { printed, out } = lines();
    const written: string[] = [];
    return { code: await renderCommand(file, { ...opts, write: (t) => written.push(t) }, out), printed, written };
  };
  const refused = async (args: string[], lines: string[], env?: Record<string, string>) => {
    const r = await runCli(args, env);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 2, stdout: '', stderr: lines.map((l) => `${l}\n`).join('') });
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gameday-render-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const ALLOWLIST = 'expected a namespace in the allowlist (spec.platform.kubernetes.allowNamespaces or --allow-namespace: staging, staging-*, *-staging, gameday, gameday-*)';
  const PRODUCTION = 'expected a namespace that is not production (its name says production; pass --allow-production to run there anyway)';

  it('a namespace named production: refused by run (no output directory made), render and validate', async () => {
    const out = join(dir, 'out');
    await refused(['run', 'scenarios/pod-kill.yaml', '--platform', 'kubernetes', '--namespace', 'production', '--out', out], [
      `scenarios/pod-kill.yaml: --namespace: ${ALLOWLIST}, found "production"`,
      `scenarios/pod-kill.yaml: --namespace: ${PRODUCTION}, found "production"`,
    ]);
    const prodEu: KubernetesOverride = { platform: 'kubernetes', namespace: 'prod-eu', allowNamespaces: ['prod-*'] };
    expect(await renderHere('scenarios/pod-kill.yaml', { kubernetes: prodEu })).toEqual({ code: 2, printed: [`scenarios/pod-kill.yaml: --namespace: ${PRODUCTION}, found "prod-eu"`], written: [] });
    expect(await validateHere(['scenarios/pod-kill.yaml'], { platform: 'kubernetes', namespace: 'default' })).toEqual({ code: 2, printed: [`scenarios/pod-kill.yaml: --namespace: ${ALLOWLIST}, found "default"`, '1 of 1 scenario file(s) invalid'] });
    expect(existsSync(out)).toBe(false);
    const allowed = await renderHere('scenarios/pod-kill.yaml', { kubernetes: { ...prodEu, allowProduction: true } });
    expect([allowed.code, allowed.printed]).toEqual([0, []]);
    expect(allowed.written.join('')).toContain('namespace: prod-eu\n');
  });

  it('mode all and fixed-percent above 50 only with --allow-mode-all', async () => {
    const file = write('modes.yaml', 'platform: { kubernetes: { namespace: staging } }', '[{ name: kill-all, kind: pod-kill, at: 10s, duration: 5s, mode: all }, { name: kill-most, kind: pod-kill, at: 20s, duration: 5s, mode: fixed-percent, value: 80 }]');
    await refused(['render', file], [
      `${file}: spec.faults[0].mode: expected mode "one", "fixed", or "fixed-percent" up to 50 on a cluster (mode "all" selects every pod at once; pass --allow-mode-all to select more), found "all"`,
      `${file}: spec.faults[1].value: expected at most 50 with mode "fixed-percent" on a cluster (pass --allow-mode-all to select more), found "80"`,
    ]);
    const allowed = await renderHere(file, { kubernetes: { allowModeAll: true } });
    expect(allowed.code).toBe(0);
    expect(documents(allowed.written.join('')).filter((o) => o.kind === 'PodChaos').map((o) => [o.spec.mode, o.spec.value])).toEqual([['all', undefined], ['fixed-percent', '80']]);
  });

  it('spec.platform.kubernetes: unknown keys, field formats, conflicting and missing choices', async () => {
    const files = {
      unknown: write('unknown.yaml', 'platform: { kubernetes: { namespace: staging, namespce: staging } }'),
      fields: write('fields.yaml', 'platform: { kubernetes: { namespace: Staging, deploy: { image: "not an image", replicas: 0 }, readyTimeout: 2h } }'),
      both: write('both.yaml', 'platform: { kubernetes: { namespace: staging, deploy: { image: "x:1" }, workload: { selector: { app: orders } }, service: { name: orders, port: 80 } } }'),
      neither: write('neither.yaml', 'platform: { kubernetes: { namespace: staging, workload: { databaseSelector: { app: db } } } }'),
      pool: write('pool.yaml', 'platform: { kubernetes: { namespace: staging, workload: { deployment: orders }, service: { name: orders, port: 80 } } }', '[{ name: lock, kind: pool-exhaustion, mode: lock, at: 10s, duration: 5s }]'),
      leak: write('leak.yaml', 'platform: { kubernetes: { namespace: staging, url: "http://orders.staging.example.com" } }', '[{ name: leak, kind: pool-exhaustion, mode: leak, at: 10s, duration: 5s }]'),
      noNamespace: write('no-namespace.yaml', 'platform: { kubernetes: { context: kind-x } }'),
    };
    expect(await validateHere(Object.values(files))).toEqual({ code: 2, printed: [
      `${files.unknown}: spec.platform.kubernetes.namespce: expected no such key (unknown keys are rejected), found key "namespce"`,
      `${files.fields}: spec.platform.kubernetes.namespace: expected a DNS-1123 label (lowercase letters, digits, -), found "Staging"`,
      `${files.fields}: spec.platform.kubernetes.deploy.image: expected an image reference such as gameday/task-api:0.1.0, found "not an image"`,
      `${files.fields}: spec.platform.kubernetes.deploy.replicas: expected ≥ 1, found number 0`,
      `${files.fields}: spec.platform.kubernetes.readyTimeout: expected a duration such as "500ms", "30s" or "5m", from 1s to 1h, found "2h"`,
      `${files.both}: spec.platform.kubernetes.workload: expected either deploy (the reference Task API) or workload (an existing one), not both, found both`,
      `${files.neither}: spec.platform.kubernetes.workload: expected the pods to Game Day: a selector (matchLabels) or a deployment name, one of them, found neither`,
      `${files.neither}: spec.platform.kubernetes: expected how clients reach the workload: service (name and port, through a port-forward) or url, found neither`,
      `${files.pool}: spec.faults[0].kind: expected a fault an existing workload can take (pool-exhaustion acts on the PostgreSQL and Task API gameday deploys: use spec.platform.kubernetes.deploy), found "pool-exhaustion"`,
      `${files.leak}: spec.platform.kubernetes.url: expected a loopback host, or a host listed in spec.target.allowHosts / --allow-host, found orders.staging.example.com`,
      `${files.leak}: spec.faults[0].mode: expected a leak only through a port-forward (the Task API's fault endpoint answers loopback clients only), found "leak" with spec.platform.kubernetes.url`,
      `${files.noNamespace}: spec.platform.kubernetes.namespace: expected the namespace to run in (spec.platform.kubernetes.namespace or --namespace), found nothing`,
      '7 of 7 scenario file(s) invalid',
    ] });
  });

  it('flags: a bad --platform, --run-id, --image or password; Kubernetes flags on a local run; render of what it cannot render', async () => {
    const byDeployment = write('by-deployment.yaml', 'platform: { kubernetes: { namespace: staging, workload: { deployment: orders }, service: { name: orders, port: 80 } } }');
    const target = write('target.yaml', 'target: { url: "http://127.0.0.1:8080" }');
    const bogus = await runCli(['render', 'scenarios/pod-kill.yaml', '--platform', 'bogus']);
    expect([bogus.code, bogus.stdout, bogus.stderr.split('\n')[0]]).toEqual([2, '', `error: option '--platform <kind>' argument 'bogus' is invalid. expected local or kubernetes, found "bogus"`]);
    const k8s: KubernetesOverride = { platform: 'kubernetes' };
    const nothing = { written: [] };
    expect(await renderHere('scenarios/pod-kill.yaml', { kubernetes: k8s, runId: 'BAD' })).toEqual({ code: 2, printed: ['--run-id: expected 1 to 20 lowercase letters or digits, found "BAD"'], ...nothing });
    expect(await renderHere('scenarios/pod-kill.yaml', { kubernetes: k8s, databasePassword: 'a b@c' })).toEqual({
      code: 2,
      printed: ['GAMEDAY_POSTGRES_PASSWORD: expected 8 to 128 of letters, digits, ".", "_", "~" and "-" (it goes into a URL unescaped)'],
      ...nothing,
    });
    expect(await renderHere('scenarios/pod-kill.yaml', { kubernetes: { ...k8s, image: 'Bad Image' } })).toEqual({ code: 2, printed: ['scenarios/pod-kill.yaml: --image: expected an image reference such as gameday/task-api:0.1.0, found "Bad Image"'], ...nothing });
    expect(await renderHere('scenarios/pod-kill.yaml', {})).toEqual({ code: 2, printed: ['scenarios/pod-kill.yaml: runs on the local platform: render prints Kubernetes objects (give --platform kubernetes, or spec.platform.kubernetes)'], ...nothing });
    expect(await renderHere(byDeployment, {})).toEqual({ code: 2, printed: [`${byDeployment}: spec.platform.kubernetes.workload names Deployment orders, whose pod selector is known only on the cluster: give workload.selector to render without one`], ...nothing });
    expect(await validateHere(['scenarios/pod-kill.yaml'], { namespace: 'staging', context: 'kind-x' })).toEqual({
      code: 2,
      printed: [
        'scenarios/pod-kill.yaml: --namespace: expected only with a Kubernetes platform (spec.platform.kubernetes or --platform kubernetes), found "staging"',
        'scenarios/pod-kill.yaml: --context: expected only with a Kubernetes platform (spec.platform.kubernetes or --platform kubernetes), found "kind-x"',
        '1 of 1 scenario file(s) invalid',
      ],
    });
    expect(await validateHere([target], { ...k8s, namespace: 'staging' })).toEqual({
      code: 2,
      printed: [`${target}: spec.target: expected a scenario with a platform to run on a cluster (spec.target only loads an existing URL), found spec.target with --platform kubernetes`, '1 of 1 scenario file(s) invalid'],
    });
    // The same file on both platforms: local by default, a cluster with --platform kubernetes.
    expect((await validateHere(['scenarios/pod-kill.yaml'])).printed).toEqual(['scenarios/pod-kill.yaml: valid (pod-kill: local platform, 1 fault(s), 4 check(s), 45s)']);
    expect((await validateHere(['scenarios/pod-kill.yaml'], k8s)).printed).toEqual(['scenarios/pod-kill.yaml: valid (pod-kill: kubernetes platform, 1 fault(s), 4 check(s), 45s)']);
  });
});
