export { evaluate, evaluateCheck } from './evaluate.js';
export { compare } from './compare.js';
export { METRIC_UNITS, measure, rtoOf } from './metrics.js';
export type { Measurement } from './metrics.js';
export { FAULT_START_TYPES, faultStartMs, measureFaultRtos, takesReplicasOut } from './rto.js';
export type { CheckResult, FaultResources, FaultRto, RunFacts, Verdict, VerdictStatus } from './types.js';
