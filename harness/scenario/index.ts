export { loadPlan, planFromFile, planFromText, type PlanResult } from './read.js';
export { isLoopbackHost } from '../core/loopback.js';
export type * from './plan.js';
export { PHASE_NAMES } from './plan.js';
export { API_VERSION } from './schema.js';
export { METRIC_UNITS } from './target.js';
export { DEFAULT_REGRESSION, regressionPlan } from './regression.js';
