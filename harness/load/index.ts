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
export { mixProblems } from './mix.js';
export { DEFAULT_TASK_API_MIX, taskApiWorkload } from './presets/task-api.js';
export { fillPools } from './pools.js';
export { assertLoopback, isLoopbackHost } from './loopback.js';
