import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lazyTempDir } from '../helpers/temp-dir.js';
import { formatDuration, parseDurationMs } from '../../harness/core/duration.js';
import { formatProblem } from '../../harness/core/errors.js';
import { planFromFile, planFromText } from '../../harness/scenario/index.js';
import { readScenarioText } from '../../harness/scenario/read.js';

const tempDir = lazyTempDir('gd-bounds-');

const head = 'apiVersion: gameday.dev/v1alpha1\nkind: Scenario\nmetadata: { name: x }\n';
const scenario = (spec: string): string => `${head}spec:\n${spec}`;

function problems(text: string): string[] {
  const r = planFromText(text, { file: 'x.yaml', env: {} });
  return r.problems ? r.problems.map(formatProblem) : [];
}

/** Wall time of `fn`, ms. */
async function timed<T>(fn: () => T | Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

describe('durations', () => {
  it('refuses values that overflow to Infinity and absurdly long text', () => {
    expect(parseDurationMs(`1${'0'.repeat(400)}s`)).toBeUndefined();
    expect(parseDurationMs(`${'9'.repeat(320)}h`)).toBeUndefined();
    expect(parseDurationMs('1s'.repeat(40))).toBeUndefined();
    expect(parseDurationMs('1m30s')).toBe(90_000);
    expect(parseDurationMs('0')).toBe(0);
  });

  it('formats bounds the way a scenario writes them', () => {
    expect([0, 50, 1000, 90_000, 3_600_000, 86_400_000, 3_661_001].map(formatDuration)).toEqual(['0s', '50ms', '1s', '1m30s', '1h', '24h', '1h1m1s1ms']);
  });

  it('says the bounds of each duration field in the error', () => {
    expect(problems(scenario(`  duration: 1${'0'.repeat(400)}s\n`))).toEqual([
      `x.yaml: spec.duration: expected a duration such as "500ms", "30s" or "1m30s", from 1s to 24h (over 1h only with spec.limits.duration), found "1${'0'.repeat(56)}..."`,
    ]);
    expect(problems(scenario('  duration: 30s\n  platform: { local: { readinessProbe: { period: 0ms, timeout: 0s }, pool: { acquireTimeout: 0s } } }\n'))).toEqual([
      'x.yaml: spec.platform.local.readinessProbe.period: expected a duration such as "500ms", "30s" or "1m30s", from 100ms to 5m, found "0ms"',
      'x.yaml: spec.platform.local.readinessProbe.timeout: expected a duration such as "500ms", "30s" or "1m30s", from 50ms to 1m, found "0s"',
      'x.yaml: spec.platform.local.pool.acquireTimeout: expected a duration such as "500ms", "30s" or "1m30s", from 10ms to 5m, found "0s"',
    ]);
    expect(problems(scenario('  duration: 30s\n  platform: { local: { livenessProbe: { period: 50ms } } }\n'))).toEqual([
      'x.yaml: spec.platform.local.livenessProbe.period: expected a duration such as "500ms", "30s" or "1m30s", from 100ms to 5m, found "50ms"',
    ]);
    expect(problems(scenario('  duration: 30s\n  faults: [{ name: k, kind: pod-kill, at: 5s, duration: 0s }]\n'))).toEqual([
      'x.yaml: spec.faults[0].duration: expected a duration such as "500ms", "30s" or "1m30s", from 1s to 24h, found "0s"',
    ]);
  });

  it('refuses numbers that are not finite', () => {
    expect(problems(scenario('  duration: 30s\n  load: { mix: { get: .nan } }\n  resources: { tolerance: { relative: 1, absolute: .inf } }\n'))).toEqual([
      'x.yaml: spec.load.mix.get: expected a finite number, found number NaN',
      'x.yaml: spec.resources.tolerance.absolute: expected a finite number, found number Infinity',
    ]);
  });
});

describe('run length and rate: an explicit opt-in beyond the defaults', () => {
  it('refuses 10000000h and rate 1,000,000 for 1000h', () => {
    expect(problems(scenario('  duration: 10000000h\n'))[0]).toMatch(/^x\.yaml: spec\.duration: expected .*from 1s to 24h \(over 1h only with spec\.limits\.duration\), found "10000000h"$/);
    const absurd = problems(scenario('  duration: 1000h\n  limits: { duration: 1000h, rate: 1000000 }\n  load: { model: open, rate: 1000000 }\n'));
    expect(absurd).toEqual([
      expect.stringMatching(/^x\.yaml: spec\.duration: expected .*to 24h.*, found "1000h"$/),
      expect.stringMatching(/^x\.yaml: spec\.limits\.duration: expected .*to 24h, found "1000h"$/),
    ]);
  });

  it('needs spec.limits for more than 1h or more than 10000 arrivals/s, up to the hard bounds', () => {
    const long = '  duration: 2h\n  load: { model: open, rate: 20000 }\n';
    expect(problems(scenario(long))).toEqual([
      'x.yaml: spec.duration: expected at most 1h unless spec.limits.duration allows longer (up to 24h), found 2h',
      'x.yaml: spec.load.rate: expected at most 10000 arrivals/s unless spec.limits.rate allows more, found 20000',
    ]);
    const allowed = planFromText(scenario(`${long}  limits: { duration: 2h, rate: 20000 }\n`), { env: {} });
    expect(allowed.problems).toBeUndefined();
    expect(allowed.plan).toMatchObject({ durationMs: 7_200_000, load: { ratePerSec: 20_000 } });
    expect(problems(scenario(`${long}  limits: { duration: 90m, rate: 15000 }\n`))).toEqual([
      'x.yaml: spec.duration: expected at most spec.limits.duration (90m), found 2h',
      'x.yaml: spec.load.rate: expected at most spec.limits.rate (15000), found 20000',
    ]);
    expect(problems(scenario('  duration: 1h\n  load: { model: open, rate: 10000 }\n'))).toEqual([]);
    expect(problems(scenario('  duration: 30s\n  limits: { rate: 2000000 }\n'))).toEqual(['x.yaml: spec.limits.rate: expected ≤ 1000000, found number 2000000']);
  });
});

describe('room to judge recovery after every fault', () => {
  const faults = (list: string, recovery = '{ window: 10s, sustain: 3s }'): string =>
    scenario(`  duration: 60s\n  warmup: 5s\n  faults:\n${list}  recovery: ${recovery}\n`);

  it('requires fault end + recovery window ≤ spec.duration', () => {
    expect(problems(faults('    - { name: a, kind: pod-kill, at: 30s, duration: 21s }\n'))).toEqual([
      'x.yaml: spec.faults[0].duration: expected to end by 50s: spec.duration (1m) minus spec.recovery.window (10s), room to judge recovery, found ends at 51s',
    ]);
    expect(problems(faults('    - { name: a, kind: pod-kill, at: 30s, duration: 20s }\n'))).toEqual([]);
    // A fault running past the end is still reported as such, once.
    expect(problems(faults('    - { name: a, kind: pod-kill, at: 30s, duration: 40s }\n'))).toEqual(['x.yaml: spec.faults[0].duration: expected to end by spec.duration (60000ms), found ends at 70000ms']);
  });

  it('requires recovery.sustain ≤ recovery.window, and sustain between one fault and the next', () => {
    expect(problems(faults('    - { name: a, kind: pod-kill, at: 10s, duration: 5s }\n', '{ window: 2s, sustain: 3s }'))).toEqual([
      'x.yaml: spec.recovery.sustain: expected at most spec.recovery.window (2s): recovery must be sustained within its window, found 3s',
    ]);
    const two = (secondAt: string) => faults(`    - { name: a, kind: pod-kill, at: 10s, duration: 5s }\n    - { name: b, kind: pod-kill, at: ${secondAt}, duration: 5s }\n`);
    expect(problems(two('17s'))).toEqual([
      "x.yaml: spec.faults[1].at: expected at or after 18s: the previous fault's end (15s) plus spec.recovery.sustain (3s), room to see it recover, found 17s",
    ]);
    expect(problems(two('18s'))).toEqual([]);
  });

  it('still accepts every shipped and test scenario', async () => {
    const files = [
      ...readdirSync('scenarios').map((f) => `scenarios/${f}`),
      ...readdirSync('test/scenarios').map((f) => `test/scenarios/${f}`),
      ...readdirSync('test/bench').map((f) => `test/bench/${f}`),
    ].filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(8);
    for (const f of files) expect((await planFromFile(f, {})).problems, f).toBeUndefined();
  });
});

describe('hostile YAML', () => {
  const bomb = [
    head,
    'a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]',
    ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`),
  ].join('\n');

  it('an alias bomb is a problem with its line, not an exception', async () => {
    const { value, ms } = await timed(() => problems(bomb));
    expect(value).toEqual(['x.yaml: line 6, column 8: expected YAML aliases expanding to at most 100 nodes in all, found aliases that expand without bound (an alias bomb, "billion laughs")']);
    expect(ms).toBeLessThan(5000);
    // Anchors and aliases in moderation are fine.
    const reuse = scenario('  duration: 40s\n  faults:\n    - { name: a, kind: pod-kill, at: &t 10s, duration: &d 5s }\n    - { name: b, kind: pod-kill, at: 20s, duration: *d }\n  warmup: 2s\n');
    expect(problems(reuse)).toEqual([]);
  });

  it('a key given twice names its path and line', () => {
    expect(problems(scenario('  duration: 30s\n  load: { connections: 4, connections: 8 }\n'))).toEqual([
      'x.yaml: spec.load.connections: expected each key once in a mapping, found "connections" again at line 6, column 27',
    ]);
  });

  it('refuses deep nesting, and lists at most 100 problems of a file', () => {
    expect(problems(scenario(`  duration: 30s\n  deep: ${'['.repeat(40)}${']'.repeat(40)}\n`))[0]).toMatch(
      /^x\.yaml: spec\.deep(\[0\]){30}: expected mappings and sequences nested at most 32 deep, found deeper nesting at line 6, column 39$/,
    );
    const many = problems(scenario(`  duration: 30s\n${Array.from({ length: 500 }, (_, i) => `  k${i}: 1\n`).join('')}`));
    expect(many).toHaveLength(101);
    expect(many[100]).toBe('x.yaml: (root): expected at most 100 problems listed, found 400 more');
  });

  it('text over 64 KiB is refused at once; the worst accepted sizes stay fast', async () => {
    const big = await timed(() => problems(`${head}x: ${'['.repeat(1 << 20)}`));
    expect(big.value).toEqual(['x.yaml: (root): expected a scenario of at most 65536 characters, found 1048649']);
    expect(big.ms).toBeLessThan(1000);
    // Inputs that cost the YAML parser most per byte, just under the limit (~0.3 s each on one core).
    const fill = (unit: string) => unit.repeat(Math.floor((65_000 - head.length) / unit.length));
    for (const text of [`${head}x: ${fill('[')}`, head + fill('\t- a\n'), head + fill('k: 1\n'), `${head}x:\n${fill('- ')}`]) {
      const { value, ms } = await timed(() => problems(text));
      expect(value.length).toBeGreaterThan(0);
      expect(ms).toBeLessThan(15_000);
    }
  });
});

describe('reading a scenario file', () => {
  it('refuses what is not a regular file, or too large, without reading it', async () => {
    const big = join(tempDir(), 'big.yaml');
    writeFileSync(big, Buffer.alloc(20 * 1024 * 1024, 'a'));
    const sub = join(tempDir(), 'sub');
    mkdirSync(sub);
    const cases: Array<[string, string]> = [
      [big, 'expected a scenario file of at most 64 KiB (65536 bytes), found 20971520 bytes'],
      [sub, 'expected a regular file (a scenario in YAML), found a directory'],
      ['/dev/zero', 'expected a regular file (a scenario in YAML), found a character device'],
      [join(tempDir(), 'missing.yaml'), 'expected a readable scenario file, found ENOENT'],
    ];
    for (const [file, message] of cases) {
      const { value, ms } = await timed(() => readScenarioText(file));
      expect(value.problem && formatProblem(value.problem)).toBe(`${file}: (root): ${message}`);
      expect(ms).toBeLessThan(1000);
    }
    const binary = join(tempDir(), 'binary.yaml');
    writeFileSync(binary, Buffer.from([0x6b, 0x3a, 0x20, 0xff, 0xfe, 0x0a]));
    expect((await readScenarioText(binary)).problem).toMatchObject({ expected: 'UTF-8 text', found: 'bytes that are not UTF-8' });
  });

  it('reads /proc files (size 0 in stat) only up to the limit', async () => {
    const r = await readScenarioText('/proc/self/status');
    expect(r.text).toContain('Name:');
  });
});
