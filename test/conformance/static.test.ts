import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../harness/core/errors.js';
import { defaultConformancePlan, evaluateConformance, type ConformanceMetric, type Finding } from '../../harness/conformance/index.js';
import { MANIFESTS_DIR } from '../../harness/kube/templates.js';

// Static mode on the shipped manifests and on broken copies of them, each breaking one criterion.
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gameday-conformance-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let copies = 0;
/** A copy of fixtures/manifests with `file` edited (by exact replacement, which must apply). */
function brokenCopy(file: string, from: string | RegExp, to: string): string {
  const copy = join(dir, `copy-${++copies}`);
  cpSync(MANIFESTS_DIR, copy, { recursive: true });
  const text = readFileSync(join(copy, file), 'utf8');
  const edited = text.replace(from, to);
  expect(edited).not.toBe(text);
  writeFileSync(join(copy, file), edited);
  return copy;
}

async function judge(paths: string[]): Promise<Map<ConformanceMetric, Finding>> {
  return (await evaluateConformance(defaultConformancePlan({ manifests: paths }), { base: dir })).findings;
}

describe('conformance, static', () => {
  it('passes every criterion the manifests can show on the shipped ones; OpenCost and the VPA recommendation are not evaluated', async () => {
    const f = await evaluateConformance(defaultConformancePlan({ manifests: [MANIFESTS_DIR] }));
    expect(f.namespace).toBe('production');
    const get = (m: ConformanceMetric): Finding => f.findings.get(m)!;
    for (const m of ['conformance.costLabels', 'conformance.backupSchedule', 'conformance.backupRetention', 'conformance.backupHook', 'conformance.chaosSafety'] as const) {
      expect(get(m), m).toMatchObject({ actual: 0 });
      expect(get(m).notEvaluated).toBeUndefined();
    }
    expect(get('conformance.costLabels').shown).toBe('4 labels');
    expect(get('conformance.backupSchedule').shown).toBe('0 2 * * *');
    expect(get('conformance.backupRetention').detail).toContain('ttl 720h (30 days)');
    expect(get('conformance.backupHook').detail).toContain('CHECKPOINT then pg_dump in container postgres, onError: Fail, timeout 120s');
    expect(get('conformance.chaosSafety').detail).toMatch(/^PodChaos chaos-mesh\/task-api-pod-kill \(.*task-api-podchaos\.yaml#1\): one in staging, 60s$/);
    expect(get('conformance.costVisibility')).toMatchObject({ actual: null, shown: 'not evaluated' });
    expect(get('conformance.costVisibility').notEvaluated).toMatch(/^needs OpenCost, which the local platform does not have/);
    expect(get('conformance.rightSizing')).toMatchObject({ actual: null, notEvaluated: 'the configuration conforms; a recommendation needs a live VPA (gameday verify --live on a cluster)' });
  });

  it('names the Deployment when a cost label is missing from the pod template only', async () => {
    // The template's cost-center (indented deeper than the Deployment's own metadata) removed.
    const copy = brokenCopy('task-api-deployment.yaml', /(template:\n\s+metadata:\n\s+labels:\n(?:\s+\S+: \S+\n){3})\s+cost-center: engineering\n/, '$1');
    const f = (await judge([copy])).get('conformance.costLabels')!;
    expect(f).toMatchObject({ actual: 1, shown: '1 problem' });
    expect(f.detail).toBe('Deployment production/task-api (copy-1/task-api-deployment.yaml#1): the pod template lacks label cost-center (OpenCost reads pod labels)');
  });

  it('refuses updateMode Auto', async () => {
    const copy = brokenCopy('task-api-vpa.yaml', 'updateMode: "Off"', 'updateMode: "Auto"');
    const f = (await judge([copy])).get('conformance.rightSizing')!;
    expect(f).toMatchObject({ actual: 1 });
    expect(f.notEvaluated).toBeUndefined();
    expect(f.detail).toBe(`VerticalPodAutoscaler production/task-api-vpa (copy-2/task-api-vpa.yaml#1): updateMode "Auto", expected "Off" (recommendations only, no restarts)`);
  });

  it('refuses a ttl of 24h and leaves the schedule criterion alone', async () => {
    const copy = brokenCopy('task-api-velero-schedule.yaml', 'ttl: 720h', 'ttl: 24h');
    const f = await judge([copy]);
    expect(f.get('conformance.backupRetention')).toMatchObject({
      actual: 1,
      detail: 'Schedule velero/task-api-production-daily (copy-3/task-api-velero-schedule.yaml#1): ttl "24h", expected 720h (30 days)',
    });
    expect(f.get('conformance.backupSchedule')?.actual).toBe(0);
  });

  it('refuses a pre hook with onError: Continue', async () => {
    const copy = brokenCopy('task-api-velero-schedule.yaml', 'onError: Fail', 'onError: Continue');
    const f = (await judge([copy])).get('conformance.backupHook')!;
    expect(f).toMatchObject({ actual: 1 });
    expect(f.detail).toBe('Schedule velero/task-api-production-daily (copy-4/task-api-velero-schedule.yaml#1): hook postgres-consistency pre[0] has onError: Continue, expected Fail (a failed dump must fail the backup)');
  });

  it('refuses a PodChaos aimed at production', async () => {
    const copy = brokenCopy('task-api-podchaos.yaml', '- staging # Per spec: staging only', '- production');
    const f = (await judge([copy])).get('conformance.chaosSafety')!;
    expect(f.actual).toBe(2);
    expect(f.detail).toBe(
      [
        'PodChaos chaos-mesh/task-api-pod-kill: targets namespace "production": expected a namespace in the allowlist (spec.platform.kubernetes.allowNamespaces or --allow-namespace: staging, staging-*, *-staging, gameday, gameday-*) (copy-5/task-api-podchaos.yaml#1)',
        'PodChaos chaos-mesh/task-api-pod-kill: targets namespace "production": expected a namespace that is not production (its name says production; pass --allow-production to run there anyway) (copy-5/task-api-podchaos.yaml#1)',
      ].join('; '),
    );
  });

  it('judges the schedule against another cron, and a schedule that misses the exclusions', async () => {
    const copy = brokenCopy('task-api-velero-schedule.yaml', /excludedResources:\n\s+- events\n\s+- pods\n/, 'excludedResources:\n      - events\n');
    const plan = defaultConformancePlan({ manifests: [copy] });
    const f = (await evaluateConformance({ ...plan, backup: { ...plan.backup, schedule: '0 */6 * * *' } }, { base: dir })).findings.get('conformance.backupSchedule')!;
    expect(f.detail.split('; ')).toEqual([
      'Schedule velero/task-api-production-daily (copy-6/task-api-velero-schedule.yaml#1): schedule "0 2 * * *", expected "0 */6 * * *"',
      'Schedule velero/task-api-production-daily (copy-6/task-api-velero-schedule.yaml#1): template.excludedResources lacks pods',
    ]);
  });

  it('says which criteria have nothing to judge when the manifests lack the objects', async () => {
    const f = await judge([join(MANIFESTS_DIR, 'postgres.yaml')]);
    expect(f.get('conformance.costLabels')?.detail).toMatch(/^no Deployment task-api in .*postgres\.yaml$/);
    expect(f.get('conformance.rightSizing')?.detail).toMatch(/^no VerticalPodAutoscaler targets Deployment default\/task-api in /);
    expect(f.get('conformance.backupHook')?.detail).toMatch(/^no Velero Schedule covers namespace default \(spec\.template\.includedNamespaces\) in /);
    expect(f.get('conformance.chaosSafety')).toMatchObject({ actual: 0, shown: '0 chaos objects' });
  });

  it('reports every missing or malformed manifest at once as bad input', async () => {
    const bad = join(dir, 'bad');
    cpSync(join(MANIFESTS_DIR, 'task-api-vpa.yaml'), join(dir, 'ok.yaml'));
    writeFileSync(join(dir, 'broken.yaml'), 'apiVersion: v1\nkind: [unclosed\n');
    writeFileSync(join(dir, 'list.yaml'), '- a\n- b\n---\nkind: Service\n');
    const err = await evaluateConformance(defaultConformancePlan({ manifests: [bad, join(dir, 'broken.yaml'), join(dir, 'list.yaml')] }), { base: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message.split('\n')).toEqual([
      'bad: (root): expected a manifest file or a directory of them, found nothing (no such file or directory)',
      'broken.yaml: document 1: expected valid YAML, found Flow sequence in block collection must be sufficiently indented and end with a ] at line 3, column 1',
      'list.yaml: document 1: expected a Kubernetes object (apiVersion, kind, metadata.name), found a list',
      'list.yaml: document 2: expected a Kubernetes object (apiVersion, kind, metadata.name), found an object without apiVersion, metadata.name',
    ]);
  });
});
