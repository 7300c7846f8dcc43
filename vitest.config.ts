import { defineConfig } from 'vitest/config';

// Files that measure nothing against the wall clock or the machine's spare CPU (pure logic, loopback
// HTTP with generous bounds, the fake Kubernetes API server, manifests): two at a time, first.
const PARALLEL = [
  'test/timeline/**/*.test.ts',
  'test/scenario/**/*.test.ts',
  'test/verdict/**/*.test.ts',
  'test/report/!(host-load).test.ts',
  'test/kube/**/*.test.ts',
  'test/conformance/**/*.test.ts',
  'test/k6/**/*.test.ts',
  'test/capacity/capacity-logic.test.ts',
  'test/dr/{validation,rpo,interrupt,kube-drill,event-times}.test.ts',
  // Interrupts and bad input: they wait for each step, whatever its pace, and check what is left.
  'test/e2e/{interrupt,interrupt-startup,bad-input,cli,fault-interrupt-cleanup}.test.ts',
  'test/task-api/{api,db-errors,seed}.test.ts',
  'test/load/{arrivals,template-render,mix}.test.ts',
  'test/blocks/{network-delay,resource-recovery,write-expectations}.test.ts',
  'test/run/{first-scrape,abort-guard}.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    reporters: ['default', './test/reporters/closing-line.ts'],
    setupFiles: ['./test/setup.ts'],
    projects: [
      { extends: true, test: { name: 'parallel', include: PARALLEL, sequence: { groupOrder: 0 } } },
      // Integration tests start PostgreSQL, replicas and load on a 2-core machine and judge timings:
      // one file at a time, after the parallel group, so they are not distorted by each other.
      { extends: true, test: { name: 'serial', include: ['test/**/*.test.ts'], exclude: PARALLEL, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
