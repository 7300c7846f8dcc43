import { Watch } from '@kubernetes/client-node';
import type { EventSink } from '../../core/journal.js';
import type { KubeClient, KubeObject } from './client.js';
import { statusOf, translateApiError } from './errors.js';
import { collectionPath, type ResourceType } from './resources.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchOptions {
  labelSelector?: string;
  /** Consecutive failed (re)connections before the watch gives up. */
  maxRetries?: number;
  /** First backoff; doubles per consecutive failure up to 2 s. */
  retryDelayMs?: number;
  /** Where drops, resumptions and relists are recorded (source: platform). */
  journal?: EventSink;
  /** Called once when the watch gives up (retries exhausted); the watch is then stopped. */
  onFailed?: (err: Error) => void;
}

const MAX_BACKOFF_MS = 2_000;

/**
 * List-then-watch of one resource type in a namespace, kept alive: client-node's Watch ends on any
 * drop and never reconnects, so this one resumes from the last resourceVersion it saw (from events
 * and BOOKMARKs), relists when the server answers 410 Gone (that version is compacted away) and
 * reconciles the relist against what it knew (objects that vanished meanwhile come out as
 * DELETED), and gives up after `maxRetries` consecutive failures with an error.
 */
export class ResilientWatch {
  private resourceVersion = '';
  private readonly known = new Map<string, KubeObject>();
  private controller?: AbortController;
  private stopped = false;
  private failures = 0;
  private retryTimer?: NodeJS.Timeout;
  /** Counters, for tests and the journal. */
  readonly stats = { connects: 0, drops: 0, relists: 0, bookmarks: 0 };

  constructor(
    private readonly client: KubeClient,
    private readonly type: ResourceType,
    private readonly onEvent: (type: WatchEventType, obj: KubeObject) => void,
    private readonly options: WatchOptions = {},
  ) {}

  /** Lists (delivering every object as ADDED) and starts watching; resolves once the list is in. */
  async start(): Promise<void> {
    await this.relist();
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.controller?.abort();
  }

  /** The objects as currently known. */
  objects(): KubeObject[] {
    return [...this.known.values()];
  }

  private key(obj: KubeObject): string {
    return obj.metadata?.uid ?? obj.metadata?.name ?? '';
  }

  private async relist(): Promise<void> {
    const list = await this.client.list(this.type, this.options.labelSelector);
    this.stats.relists++;
    const seen = new Set<string>();
    for (const obj of list.items) {
      const key = this.key(obj);
      seen.add(key);
      const before = this.known.get(key);
      this.known.set(key, obj);
      if (!before) this.onEvent('ADDED', obj);
      else if (before.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.onEvent('MODIFIED', obj);
    }
    for (const [key, obj] of [...this.known]) {
      if (!seen.has(key)) {
        this.known.delete(key);
        this.onEvent('DELETED', obj);
      }
    }
    this.resourceVersion = list.resourceVersion;
  }

  private connect(): void {
    if (this.stopped) return;
    this.stats.connects++;
    let gotEvent = false;
    const watch = new Watch(this.client.kc);
    const query = {
      allowWatchBookmarks: true,
      resourceVersion: this.resourceVersion,
      ...(this.options.labelSelector ? { labelSelector: this.options.labelSelector } : {}),
    };
    let gone = false;
    const started = watch.watch(
      collectionPath(this.type, this.client.namespace),
      query,
      (type: string, obj: KubeObject) => {
        if (this.stopped) return;
        gotEvent = true;
        if (type === 'ERROR') {
          // A Status in the stream: 410 means our resourceVersion is too old to resume from.
          const status = obj as { code?: number; message?: string };
          if (status.code === 410) gone = true;
          return;
        }
        const rv = obj.metadata?.resourceVersion;
        if (rv) this.resourceVersion = rv;
        if (type === 'BOOKMARK') {
          this.stats.bookmarks++;
          return;
        }
        if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
        const key = this.key(obj);
        if (type === 'DELETED') this.known.delete(key);
        else this.known.set(key, obj);
        this.onEvent(type, obj);
      },
      (err: unknown) => {
        if (this.stopped) return;
        if (gotEvent) this.failures = 0;
        this.stats.drops++;
        if (gone || statusOf(err) === 410) {
          this.options.journal?.record({ source: 'platform', type: 'watch.gone', target: this.type.plural, detail: { resourceVersion: this.resourceVersion } });
          this.retry(true);
          return;
        }
        this.options.journal?.record({
          source: 'platform',
          type: 'watch.dropped',
          target: this.type.plural,
          detail: { resourceVersion: this.resourceVersion, error: err ? String((err as Error).message ?? err) : 'closed by the server' },
        });
        this.retry(false, err);
      },
    );
    started.then((c) => {
      this.controller = c;
      if (this.stopped) c.abort();
    }, () => undefined);
  }

  private retry(relist: boolean, err?: unknown): void {
    // A clean close after events (the server's timeout, a proxy's idle cut) resumes at once; failures back off.
    const immediate = this.failures === 0 && !err;
    this.failures++;
    const max = this.options.maxRetries ?? 8;
    if (this.failures > max) {
      this.stop();
      const error = translateApiError(err ?? new Error('the watch kept closing'), { verb: 'watch', resource: this.type, namespace: this.client.namespace }, this.client.server);
      this.options.journal?.record({ source: 'platform', type: 'watch.failed', target: this.type.plural, detail: { retries: max, error: error.message } });
      this.options.onFailed?.(error);
      return;
    }
    const delay = immediate ? 0 : Math.min(MAX_BACKOFF_MS, (this.options.retryDelayMs ?? 100) * 2 ** (this.failures - 1));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.stopped) return;
      const next = relist ? this.relist() : Promise.resolve();
      next.then(
        () => {
          if (relist) this.options.journal?.record({ source: 'platform', type: 'watch.relisted', target: this.type.plural, detail: { objects: this.known.size } });
          this.connect();
        },
        (e: unknown) => this.retry(true, e),
      );
    }, delay);
  }
}
