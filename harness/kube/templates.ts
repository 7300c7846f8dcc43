import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Deployment, V1Job, V1Secret, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { HarnessError } from '../core/errors.js';
import { PROJECT_ROOT } from '../core/paths.js';

/** The seed's manifests and gameday's additions, the templates the Kubernetes platform deploys from. */
export const MANIFESTS_DIR = join(PROJECT_ROOT, 'fixtures', 'manifests');

export interface WorkloadTemplates {
  taskApiDeployment: V1Deployment;
  taskApiService: V1Service;
  seedJob: V1Job;
  postgresSecret: V1Secret;
  postgresService: V1Service;
  postgresStatefulSet: V1StatefulSet;
}

type Doc = { apiVersion?: string; kind?: string; metadata?: { name?: string } };

/** The documents of one manifest file, in order. */
export function readManifests(file: string): Doc[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new HarnessError(`${file}: cannot read the manifest (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return [];
  return docs.map((d, i) => {
    if (d.errors.length > 0) throw new HarnessError(`${file}: document ${i + 1} is not valid YAML: ${d.errors[0]?.message ?? ''}`);
    return d.toJS() as Doc;
  });
}

function pick<T>(docs: Doc[], file: string, kind: string, name: string): T {
  const found = docs.find((d) => d.kind === kind && d.metadata?.name === name);
  if (!found) throw new HarnessError(`${file}: no ${kind} named ${name} (the Kubernetes platform's template)`);
  return found as T;
}

let cached: WorkloadTemplates | undefined;

/**
 * The workload templates read from `dir` (once for the default directory), each a fresh copy the
 * caller may change.
 */
export function workloadTemplates(dir: string = MANIFESTS_DIR): WorkloadTemplates {
  if (dir !== MANIFESTS_DIR || !cached) {
    const api = join(dir, 'task-api-deployment.yaml');
    const seed = join(dir, 'task-api-seed-job.yaml');
    const pg = join(dir, 'postgres.yaml');
    const apiDocs = readManifests(api);
    const seedDocs = readManifests(seed);
    const pgDocs = readManifests(pg);
    const read: WorkloadTemplates = {
      taskApiDeployment: pick(apiDocs, api, 'Deployment', 'task-api'),
      taskApiService: pick(apiDocs, api, 'Service', 'task-api'),
      seedJob: pick(seedDocs, seed, 'Job', 'task-api-seed'),
      postgresSecret: pick(pgDocs, pg, 'Secret', 'postgres'),
      postgresService: pick(pgDocs, pg, 'Service', 'postgres'),
      postgresStatefulSet: pick(pgDocs, pg, 'StatefulSet', 'postgres'),
    };
    if (dir !== MANIFESTS_DIR) return read;
    cached = read;
  }
  return structuredClone(cached);
}
