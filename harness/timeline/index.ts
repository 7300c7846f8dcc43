export { TimelineRecorder, WINDOW_MS } from './recorder.js';
export type { TimelineRecorderOptions } from './recorder.js';
export type {
  LatencySummary,
  OutcomeCounts,
  PhaseStats,
  RequestPhaseStats,
  RequestSecondColumns,
  RequestTimeline,
  SecondWindow,
  StatusClass,
  TickSeries,
  TimelineData,
  TransportErrorCounts,
} from './types.js';
export { REQUEST_SECOND_COLUMNS, STATUS_CLASSES } from './types.js';
export { createLatencyHistogram, mergeHistograms, summarize, toMicros } from './histogram.js';
export { mergePhaseHistograms, mergeSelection, phasesNamed, selectPhases, selectRequest } from './merge.js';
export type { PhaseSelection, Selection } from './merge.js';
export type { RequestSpec } from './requests.js';
export { isHealthyWindow, isIdleSecond, judgedWindowCount, slowExceedsP95, warmupEndMs, windowHealth } from './health.js';
export type { SecondHealth } from './health.js';
export { detectDisruptions } from './disruption.js';
export type { Disruption } from './disruption.js';
export { clientRtoMs, sustainedHealthyRun } from './client-rto.js';
export type { ClientRto } from './client-rto.js';
export { platformRtoMs } from './platform-rto.js';
export type { PlatformRto, ReplicaRecovery } from './platform-rto.js';
