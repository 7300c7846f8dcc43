import type { z } from 'zod';
import type { JournalEventType } from '../../core/journal.js';
import type { AppPlan, FaultPlan } from '../../scenario/plan.js';
import type { FaultInjector } from '../types.js';

/**
 * The scenario schema's building blocks a kind's document uses: `obj` is strict (unknown keys are
 * problems) or loose (see scenario/schema.ts), `duration` a Go-style duration within bounds.
 */
export interface FaultSchemaParts {
  obj: typeof z.strictObject;
  duration: (bounds: { min: number; max: number }, note?: string) => z.ZodString;
  dnsLabel: z.ZodString;
  positiveInt: z.ZodNumber;
  nonNegativeInt: z.ZodNumber;
}

/** Builds a kind's scenario document (an object with `kind` its literal, name, at and duration). */
export type FaultDocumentSchema = (parts: FaultSchemaParts) => z.ZodObject;
/** The document a kind's schema parses to. */
export type DocumentOf<B extends FaultDocumentSchema> = z.infer<ReturnType<B>>;

export type Report = (path: string, expected: string, found: string) => void;

/** What fault planning needs to know of the platform: none to act on (spec.target), or one with replicas. */
export type PlatformShape = { kind: 'external' } | { kind: 'local'; replicas: number };

/** Where exec faults run (the scenario file's directory) and which non-loopback hosts http faults may reach. */
export interface FaultPlanContext {
  baseDir: string;
  allowHosts: readonly string[];
}

/** The fields every fault plan has, already converted (durations in ms). */
export interface FaultBase {
  name: string;
  atMs: number;
  durationMs: number;
}

/** What a local platform must provide for a fault: Task API fault endpoints, a database proxy. */
export interface PlatformNeeds {
  faultInjection?: string[];
  databaseProxy?: boolean;
}

/**
 * Everything about one fault kind, in one module (faults/kinds/<kind>.ts) listed once in
 * faults/kinds/index.ts. Validation, the platform's needs, the injector, and what the journal
 * and the verdict read of it all come from here.
 */
export interface FaultKindModule<K extends FaultPlan['kind'] = FaultPlan['kind'], B extends FaultDocumentSchema = FaultDocumentSchema> {
  kind: K;
  /** Its part of the scenario schema (spec.faults[] with this `kind`). */
  document: B;
  /** Acts through a platform (false: runs with spec.target too, like exec and http). */
  needsPlatform: boolean;
  /** The scenario's fault document → its plan, reporting cross-field problems at `path` (spec.faults[i]). */
  plan(doc: DocumentOf<B>, base: FaultBase, path: string, platform: PlatformShape, problem: Report, where: FaultPlanContext): Extract<FaultPlan, { kind: K }>;
  /** What the local platform must set up for this fault. */
  platformNeeds?(plan: Extract<FaultPlan, { kind: K }>): PlatformNeeds;
  /** Refuses what an app (not the Task API) cannot take: its endpoints, its schema, a database it lacks. */
  checkApp?(plan: Extract<FaultPlan, { kind: K }>, app: AppPlan, path: string, problem: Report): void;
  /** The default injector, acting through the platform's capabilities (a platform may supply its own: Platform.injectorFor). */
  injector(plan: Extract<FaultPlan, { kind: K }>): FaultInjector;
  /** Journal event types by which the fault takes effect: the earliest one is the fault's start for the client RTO. */
  effectEvents: readonly JournalEventType[];
  /** Journal event types by which it takes a replica out (each one's target is a replica the platform must replace). */
  replicaLostEvents?: readonly JournalEventType[];
  /** Whether this plan takes replicas out, so a platform RTO is measured for it (default: no). */
  takesReplicasOut?(plan: Extract<FaultPlan, { kind: K }>): boolean;
  /** A scenario with this fault and no checks of its own gets the platform RTO check too (pod-kill). */
  defaultRtoCheck?: boolean;
  /** Its inject runs a while (a command, a request): where in it the fault took effect, only the clients can tell. */
  spanInject?: boolean;
}

/** Type-checks a kind module against its kind, keeping its document's own type. */
export function defineFaultKind<K extends FaultPlan['kind'], B extends FaultDocumentSchema>(module: FaultKindModule<K, B>): FaultKindModule<K, B> {
  return module;
}
