import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../harness/core/errors.js';
import { SystemClock } from '../../harness/core/clock.js';
import { Journal } from '../../harness/core/journal.js';
import { createInjector } from '../../harness/faults/index.js';
import { drillVeleroObjects } from '../../harness/kube/velero.js';
import type { CheckPlan, Plan } from '../../harness/scenario/plan.js';
import { drillMetric } from '../../harness/verdict/dr-metrics.js';
import { planFromText } from '../../harness/scenario/index.js';
import { runCli } from '../helpers/cli.js';
import { crdProblems } from '../kube/objects-schema.js';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const scenario = (fault: string, checks = ''): string => `apiVersion: gameday.dev/v1alpha1
kind: Scenario
metadata: { name: drill }
spec:
  duration: 60s
  warmup: 2s
  faults:
    - ${fault}
${checks ? `  checks:\n${checks}` : ''}`;

function problems(text: string): string[] {
  const r = planFromText(text, { file: 'x.yaml', env: {} });
  return r.problems ? r.problems.map(formatProblem) : [];
}

describe('disaster-recovery validation', () => {
  it('plans a drill: backup at `at`, disaster at `disasterAt`, deadline at + duration; RTO and RPO targets in minutes and hours', () => {
    const r = planFromText(
      scenario(
        '{ name: dr, kind: disaster-recovery, at: 5s, disasterAt: 15s, duration: 40s }',
        '    - { id: A, name: a, metric: rto.restore, fault: dr, target: "< 30m" }\n    - { id: B, name: b, metric: rpo.span, target: "< 24h" }\n',
      ),
      { env: {} },
    );
    expect(r.problems).toBeUndefined();
    expect(r.plan?.faults[0]).toMatchObject({ kind: 'disaster-recovery', atMs: 5000, disasterAtMs: 15_000, durationMs: 40_000, healthPath: '/health' });
    expect(r.plan?.checks.map((c) => c.threshold)).toEqual([30 * 60_000, 24 * 3_600_000]);
  });

  it('refuses a drill whose disaster comes before its backup, or leaves no time to restore', () => {
    expect(problems(scenario('{ name: dr, kind: disaster-recovery, at: 20s, disasterAt: 10s, duration: 30s }'))).toEqual([
      'x.yaml: spec.faults[0].disasterAt: expected after the backup (at: 20s): a drill restores from a backup taken before the disaster, found 10s',
    ]);
    expect(problems(scenario('{ name: dr, kind: disaster-recovery, at: 10s, disasterAt: 10s, duration: 30s }'))[0]).toMatch(/disasterAt: expected after the backup/);
    expect(problems(scenario('{ name: dr, kind: disaster-recovery, at: 10s, disasterAt: 45s, duration: 30s }'))).toEqual([
      'x.yaml: spec.faults[0].disasterAt: expected before the drill\'s end (at + duration = 40000ms), leaving time to restore, found 45000ms',
    ]);
  });

  it('refuses a drill that would delete or restore into production, or restore onto the namespace it deletes', () => {
    expect(problems(scenario('{ name: dr, kind: disaster-recovery, at: 5s, disasterAt: 10s, duration: 30s, namespace: production }'))).toEqual([
      'x.yaml: spec.faults[0].namespace: expected a namespace that is not production (a drill deletes and restores it; test restores in staging), found "production"',
    ]);
    expect(problems(scenario('{ name: dr, kind: disaster-recovery, at: 5s, disasterAt: 10s, duration: 30s, namespace: staging, restoreNamespace: prod-restore }'))[0]).toMatch(
      /restoreNamespace: expected a namespace that is not production .* found "prod-restore"/,
    );
    expect(problems(scenario('{ name: dr, kind: disaster-recovery, at: 5s, disasterAt: 10s, duration: 30s, namespace: staging, restoreNamespace: staging }'))[0]).toMatch(
      /restoreNamespace: expected a namespace other than the one deleted \("staging"\)/,
    );
  });

  it('refuses a drill on a database gameday did not start (a server named by URL is never destroyed)', () => {
    const text = scenario('{ name: dr, kind: disaster-recovery, at: 5s, disasterAt: 10s, duration: 30s }').replace('  faults:', '  platform: { local: { database: { url: "postgres://u:p@127.0.0.1:5432/db" } } }\n  faults:');
    expect(problems(text)).toEqual([
      'x.yaml: spec.faults[0].kind: expected a fault that leaves the database alone: a disaster-recovery drill deletes the database, and gameday never destroys a server named by URL (use database: embedded), found "disaster-recovery"',
    ]);
  });

  it('refuses drill metrics without a drill', () => {
    const text = scenario('{ name: kill, kind: pod-kill, at: 5s, duration: 5s }', '    - { id: A, name: a, metric: rpo.lostWrites, target: "> 0" }\n    - { id: B, name: b, metric: rto.restore, fault: kill, target: "< 30m" }\n');
    expect(problems(text)).toEqual([
      'x.yaml: spec.checks[0].metric: expected rpo.lostWrites of a disaster-recovery fault (none in spec.faults), found rpo.lostWrites',
      'x.yaml: spec.checks[1].fault: expected rto.restore of a disaster-recovery fault (none in spec.faults), found "kill"',
    ]);
  });

  it('gameday validate: a production drill exits 2 with the message; the shipped dr-drill.yaml is valid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gameday-dr-'));
    try {
      const file = join(dir, 'prod.yaml');
      writeFileSync(file, scenario('{ name: dr, kind: disaster-recovery, at: 5s, disasterAt: 10s, duration: 30s, namespace: production }'));
      const bad = await runCli(['validate', file, 'scenarios/dr-drill.yaml']);
      expect(bad.code).toBe(2);
      expect(bad.stdout + bad.stderr).toContain(`${file}: spec.faults[0].namespace: expected a namespace that is not production`);
      expect(bad.stdout + bad.stderr).toContain('scenarios/dr-drill.yaml: valid (dr-drill: local platform, 1 fault(s), 5 check(s), 60s)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Velero Backup and Restore: valid against the upstream CRDs, the Schedule\'s hook, a namespace mapping; production refused', () => {
    const { backup, restore } = drillVeleroObjects({ name: 'dr' }, { runId: 'abc123', namespace: 'staging', restoreNamespace: 'staging-restore-test' });
    expect(crdProblems(backup)).toEqual([]);
    expect(crdProblems(restore)).toEqual([]);
    expect(backup.spec).toMatchObject({ includedNamespaces: ['staging'], excludedResources: ['events', 'pods', 'replicasets'], ttl: '720h' });
    const hook = (backup.spec['hooks'] as { resources: Array<{ includedNamespaces: string[]; pre: Array<{ exec: { command: string[]; onError: string } }> }> }).resources[0]!;
    expect(hook.includedNamespaces).toEqual(['staging']);
    expect(hook.pre[0]?.exec.onError).toBe('Fail');
    expect(hook.pre[0]?.exec.command.join(' ')).toMatch(/CHECKPOINT;[\s\S]*pg_dump/);
    expect(restore.spec).toEqual({ backupName: backup.metadata.name, includedNamespaces: ['staging'], namespaceMapping: { staging: 'staging-restore-test' }, restorePVs: true });
    expect(backup.metadata.labels).toMatchObject({ 'gameday.dev/run': 'abc123', 'gameday.dev/fault': 'dr', 'backup-type': 'daily' });
    // The schema check is real: a field Velero does not know is refused.
    const misspelt = { ...restore, spec: { ...restore.spec, namespaceMappings: {} } };
    expect(crdProblems(misspelt)).toEqual(['/spec: must NOT have additional properties (namespaceMappings)']);
    expect(() => drillVeleroObjects({ name: 'dr' }, { runId: 'abc123', namespace: 'production' })).toThrow('fault dr: the namespace "production" is production: a drill deletes and restores namespaces, never production (test restores in staging)');
    expect(() => drillVeleroObjects({ name: 'dr' }, { runId: 'abc123', namespace: 'staging', restoreNamespace: 'prod-copy' })).toThrow(/restore namespace "prod-copy" is production/);
  });

  it('a platform that cannot lose its database: nothing is touched, the drill says why, its checks are not evaluated (never passed)', async () => {
    const clock = new SystemClock();
    const journal = new Journal(clock);
    const plan = { kind: 'disaster-recovery', name: 'dr', atMs: 0, durationMs: 10_000, disasterAtMs: 5000, healthPath: '/health' } as const;
    const platform = { kind: 'kubernetes', deploy: async () => undefined as never, teardown: async () => undefined };
    const deployment = { serviceUrl: 'http://127.0.0.1:1', replicas: () => [] };
    const fault = createInjector(plan, platform);
    expect(await fault.apply({ platform, deployment, journal, clock, random: Math.random })).toEqual([]);
    expect(journal.events().map((e) => e.type)).toEqual(['dr.not-run']);
    const facts = { events: journal.events(), rtos: [] } as never;
    for (const metric of ['rto.restore', 'rpo.span', 'durability.lostOutsideRpo'] as const) {
      const m = drillMetric({ metric, fault: 'dr' } as CheckPlan, { faults: [plan] } as unknown as Plan, facts);
      expect(m.actual).toBeNull();
      expect(m.notEvaluated).toMatch(/^dr: platform "kubernetes" cannot back up, lose and restore its database here/);
    }
  });
});
