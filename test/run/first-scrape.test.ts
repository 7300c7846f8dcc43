import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../harness/core/journal.js';
import { lateScrapeNote } from '../../harness/run/gameday.js';

const event = (type: string, atMs: number): JournalEvent => ({ type, atMs, wallMs: 1_700_000_000_000 + atMs, source: 'platform' }) as JournalEvent;

describe('the first scrape, waited for off the path to the first request', () => {
  it('says nothing when every replica was scraped before the warm-up ended (before the zero counts too)', () => {
    expect(lateScrapeNote([event('prometheus.scraped', -300)], 3000)).toBeUndefined();
    expect(lateScrapeNote([event('prometheus.scraped', 2900)], 3000)).toBeUndefined();
  });

  it('says the first window has no baseline when the scrape came after the warm-up, or never', () => {
    expect(lateScrapeNote([event('prometheus.scraped', 4200)], 3000)).toBe(
      "server side: Prometheus first scraped every replica at 4.2 s, after the end of warm-up at 3.0 s, so the first window has no baseline sample (its increase() counts from the replicas' start)",
    );
    expect(lateScrapeNote([event('prometheus.unscraped', 15000)], 3000)).toMatch(/^server side: Prometheus had not scraped every replica by the end of the run, nor by the end of warm-up at 3\.0 s, so the first window has no baseline/);
  });
});
