import { performance } from 'node:perf_hooks';
import type { Socket } from 'node:net';

/** Bytes held back in one direction of one connection before the source is paused. */
export const HELD_HIGH_WATER_BYTES = 4 * 1024 * 1024;

interface HeldChunk {
  chunk: Buffer;
  releaseAtMs: number;
}

/** Counters one direction reports into (shared by every connection of a proxy). */
export interface PipeCounters {
  bytes: number;
  delayedChunks: number;
  heldBytes: number;
}

/**
 * One direction of one proxied connection. With no delay it is a plain pipe: each chunk is
 * written as it arrives, with no timer on the path. With a delay, each chunk is held until
 * max(arrival + sample, previous release), so bytes never overtake each other; one timer serves
 * the head of the queue. Backpressure: the source pauses while the destination's buffer is full
 * or too much is held. The source's FIN is passed on once everything before it was released.
 */
export class DelayedPipe {
  private readonly held: HeldChunk[] = [];
  private heldBytes = 0;
  private lastReleaseMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private destBlocked = false;
  private sourceEnded = false;
  private closed = false;

  constructor(
    private readonly source: Socket,
    private readonly dest: Socket,
    /** A delay sample in ms for the next chunk, or undefined when this direction is not delayed. */
    private readonly sampleDelayMs: () => number | undefined,
    private readonly counters: PipeCounters,
  ) {
    source.on('data', (chunk: Buffer) => this.onData(chunk));
    source.on('end', () => this.onEnd());
    dest.on('drain', () => {
      this.destBlocked = false;
      this.updateFlow();
    });
  }

  /** Releases everything held, in order, now (the delay was cleared). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.lastReleaseMs = performance.now();
    this.releaseUpTo(Number.POSITIVE_INFINITY);
  }

  /** Drops what is held and stops the timer (the connection is gone). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.counters.heldBytes -= this.heldBytes;
    this.heldBytes = 0;
    this.held.length = 0;
  }

  private onData(chunk: Buffer): void {
    this.counters.bytes += chunk.length;
    const delayMs = this.sampleDelayMs();
    if (delayMs === undefined && this.held.length === 0) {
      this.write(chunk);
      return;
    }
    const releaseAtMs = Math.max(performance.now() + (delayMs ?? 0), this.lastReleaseMs);
    this.lastReleaseMs = releaseAtMs;
    this.held.push({ chunk, releaseAtMs });
    this.heldBytes += chunk.length;
    this.counters.heldBytes += chunk.length;
    this.counters.delayedChunks += 1;
    this.updateFlow();
    if (this.held.length === 1) this.schedule();
  }

  private onEnd(): void {
    this.sourceEnded = true;
    if (this.held.length === 0) this.endDest();
  }

  private schedule(): void {
    const head = this.held[0];
    if (head === undefined || this.closed) return;
    clearTimeout(this.timer);
    const waitMs = Math.max(0, Math.ceil(head.releaseAtMs - performance.now()));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.releaseUpTo(performance.now());
      this.schedule();
    }, waitMs);
  }

  /** Writes every held chunk due by `nowMs`, oldest first (bounded by the queue's length). */
  private releaseUpTo(nowMs: number): void {
    let due = 0;
    while (due < this.held.length && (this.held[due] as HeldChunk).releaseAtMs <= nowMs) due += 1;
    for (const { chunk } of this.held.splice(0, due)) {
      this.heldBytes -= chunk.length;
      this.counters.heldBytes -= chunk.length;
      this.write(chunk);
    }
    if (this.held.length === 0 && this.sourceEnded) this.endDest();
    this.updateFlow();
  }

  private write(chunk: Buffer): void {
    if (this.closed || this.dest.destroyed) return;
    if (!this.dest.write(chunk)) {
      this.destBlocked = true;
      this.source.pause();
    }
  }

  private endDest(): void {
    if (!this.closed && !this.dest.destroyed && !this.dest.writableEnded) this.dest.end();
  }

  private updateFlow(): void {
    if (this.closed || this.source.destroyed) return;
    if (this.destBlocked || this.heldBytes > HELD_HIGH_WATER_BYTES) this.source.pause();
    else if (this.source.isPaused()) this.source.resume();
  }
}
