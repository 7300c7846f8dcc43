import type { LatencyProxyStats } from './latency-proxy.js';
import type { NetworkDelay } from './network-delay.js';

/** Messages between the harness and a latency proxy process. */
export type LatencyProxyCommand =
  | { op: 'set-delay'; seq: number; delay: NetworkDelay }
  | { op: 'clear-delay'; seq: number }
  | { op: 'stats'; seq: number };

export type LatencyProxyMessage =
  | { event: 'listening'; port: number }
  | { event: 'reply'; seq: number; stats?: LatencyProxyStats; error?: string };
