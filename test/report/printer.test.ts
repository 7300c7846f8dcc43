import { describe, expect, it } from 'vitest';
import { choosePrinter, type Terminal } from '../../harness/cli/printer.js';
import type { ProgressTick } from '../../harness/run/gameday.js';
import { syntheticResult } from './fixture.js';

function terminal(opts: { tty?: boolean; env?: Record<string, string> } = {}): Terminal & { out(): string; err(): string } {
  let out = '';
  let err = '';
  return {
    stdout: { isTTY: opts.tty ?? false, columns: 100, write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: opts.env ?? {},
    out: () => out,
    err: () => err,
  };
}

const tick = (s: number, failures = 0): ProgressTick => ({
  elapsedMs: s * 1000 + 3,
  totalMs: 45_000,
  phase: s >= 15 ? 'fault' : 'baseline',
  ...(s >= 15 ? { fault: 'kill-one-replica' } : {}),
  last: { second: s - 1, requestsPerSec: 398, p95Ms: 7.14, failures },
  totals: { outcomes: s * 400, failures },
});

function drive(term: Terminal, flags: { quiet?: boolean; json?: boolean } = {}): void {
  const p = choosePrinter(flags, term);
  p.start({ scenario: 'pod-kill', platform: 'local', durationMs: 45_000, outDir: '/tmp/x' });
  for (let s = 1; s <= 16; s++) p.tick(tick(s, s === 16 ? 3 : 0));
  p.result(syntheticResult(), ['/tmp/x/result.json']);
  p.error('something went wrong');
}

describe('live progress', () => {
  it('on a terminal: one line redrawn in place, with elapsed/total, phase, fault, req/s, p95, failures, in colour', () => {
    const t = terminal({ tty: true });
    drive(t);
    const out = t.out();
    expect(out.match(/\r\x1b\[2K/g)?.length).toBeGreaterThanOrEqual(16);
    expect(out).toContain('\x1b[');
    const last = out.split('\r\x1b[2K').filter((l) => l.includes('req/s')).at(-1) ?? '';
    expect(last.replace(/\x1b\[\d+m/g, '')).toMatch(/^16s\/45s\s+fault \(kill-one-replica\)\s+398 req\/s\s+p95 7\.1ms\s+failures 3 \(total 3\)/);
    expect(t.err()).toBe('something went wrong\n');
  });

  it('NO_COLOR: the same live line without escape colours', () => {
    const t = terminal({ tty: true, env: { NO_COLOR: '1' } });
    drive(t);
    expect(t.out()).not.toMatch(/\x1b\[\d+m/);
    expect(t.out()).toContain('\r\x1b[2K');
  });

  it('CI or no terminal: a plain line every 5 s, no escapes at all', () => {
    for (const t of [terminal({ tty: true, env: { CI: 'true' } }), terminal()]) {
      drive(t);
      expect(t.out()).not.toContain('\x1b');
      const lines = t.out().split('\n').filter((l) => l.includes('req/s'));
      expect(lines.map((l) => l.trim().split(' ')[0])).toEqual(['1s/45s', '6s/45s', '11s/45s', '16s/45s']);
    }
  });

  it('--quiet: the verdict line only on stdout, errors on stderr', () => {
    const t = terminal({ tty: true });
    drive(t, { quiet: true });
    expect(t.out()).toBe('fixture: \x1b[32mPASSED\x1b[39m — 2/2 checks passed\n');
    expect(t.err()).toBe('something went wrong\n');
  });

  it('--json: nothing but JSON lines on stdout', () => {
    const t = terminal({ tty: true });
    drive(t, { json: true });
    const events = t.out().trim().split('\n').map((l) => JSON.parse(l) as { event: string });
    expect(events.map((e) => e.event)).toEqual(['start', ...Array(16).fill('tick'), 'result']);
    expect(events[16]).toMatchObject({ event: 'tick', phase: 'fault', fault: 'kill-one-replica', last: { requestsPerSec: 398, p95Ms: 7.14, failures: 3 } });
    expect(events[17]).toMatchObject({ event: 'result', verdict: 'passed', passed: true, files: ['/tmp/x/result.json'] });
    expect(t.err()).toBe('something went wrong\n');
  });
});
