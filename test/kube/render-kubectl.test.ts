import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKube, type FakeKube } from './fake/index.js';

/**
 * What `gameday render` prints is what `kubectl apply --dry-run=server -f -` accepts: the golden
 * renderings (render.test.ts proves the CLI prints them byte for byte) applied by Debian's kubectl
 * to the fake API server, which validates Chaos Mesh objects strictly against the real CRDs.
 */

const HAS_KUBECTL = spawnSync('kubectl', ['version', '--client'], { timeout: 10_000 }).status === 0;

describe.skipIf(!HAS_KUBECTL)('kubectl apply --dry-run=server -f - of the rendered YAML', () => {
  let kube: FakeKube;
  beforeAll(async () => {
    kube = await startFakeKube({ namespaces: ['staging', 'gameday-ci'], contextNamespace: 'staging' });
  }, 30_000);
  afterAll(async () => {
    await kube?.close();
  });

  it.each([
    ['pod-kill.yaml', 'staging', ['secret/postgres', 'service/postgres', 'statefulset.apps/postgres', 'job.batch/task-api-seed', 'service/task-api', 'deployment.apps/task-api', 'podchaos.chaos-mesh.org/kill-one-replica-golden']],
    [
      'all-faults.yaml',
      'gameday-ci',
      [
        'secret/postgres',
        'service/postgres',
        'statefulset.apps/postgres',
        'job.batch/task-api-seed',
        'service/task-api',
        'deployment.apps/task-api',
        'podchaos.chaos-mesh.org/kill-two-golden',
        'networkchaos.chaos-mesh.org/db-slow-golden',
        'job.batch/table-lock-golden',
        'job.batch/connections-held-golden',
      ],
    ],
  ])('%s: every object accepted (server dry run), nothing created', async (file, namespace, names) => {
    const r = await kube.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input: readFileSync(`test/kube/golden/${file}`, 'utf8') });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout.trim().split('\n')).toEqual(names.map((n) => `${n} created (server dry run)`));
    expect(kube.list('deployments', namespace)).toEqual([]);
  }, 30_000);

  it('an unknown field in a rendered chaos object is refused by the same check', async () => {
    const text = readFileSync('test/kube/golden/pod-kill.yaml', 'utf8').replace('  action: pod-kill\n', '  action: pod-kill\n  gracefulPeriod: 0\n');
    const r = await kube.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input: text });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('strict decoding error: unknown field "spec.gracefulPeriod"');
  }, 30_000);
});
