export type {
  AcknowledgedWrite,
  LoadDriver,
  LoadPlan,
  LoadRun,
  LoadSummary,
  LoadTarget,
  MixEntry,
  OperationName,
  ResponseSink,
  TransportErrorKind,
} from './types.js';
export { OPERATION_NAMES, TRANSPORT_ERROR_KINDS } from './types.js';
export { createLoadDriver, loadPlanProblems } from './driver.js';
export { DEFAULT_MIX, mixProblems } from './mix.js';
export { assertLoopback, isLoopbackHost } from './loopback.js';
export { discoverIds } from './discover.js';
