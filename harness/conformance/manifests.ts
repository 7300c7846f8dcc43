import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Problem } from '../core/errors.js';

/** An object read from a manifest or the cluster, with where it came from ("postgres.yaml#3", "the cluster"). */
export interface FoundObject {
  obj: Record<string, unknown> & { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; creationTimestamp?: string } };
  where: string;
}

const MANIFEST = /\.(ya?ml|json)$/i;

/**
 * Every object of the given files and directories (a directory: its .yaml/.yml/.json files, not
 * recursive, in name order). Every missing path, unreadable file, YAML error and document that is
 * not a Kubernetes object is a problem; all are reported at once.
 */
export function readManifestObjects(paths: readonly string[], base = process.cwd()): { objects: FoundObject[]; problems: Problem[] } {
  const objects: FoundObject[] = [];
  const problems: Problem[] = [];
  const show = (p: string): string => (relative(base, p).startsWith('..') ? p : relative(base, p) || basename(p));
  const files: string[] = [];
  for (const path of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (err) {
      problems.push({ file: show(path), path: '', expected: 'a manifest file or a directory of them', found: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'nothing (no such file or directory)' : (err as Error).message });
      continue;
    }
    if (!isDir) {
      files.push(path);
      continue;
    }
    const inDir = readdirSync(path).filter((f) => MANIFEST.test(f)).sort().map((f) => join(path, f));
    if (inDir.length === 0) problems.push({ file: show(path), path: '', expected: 'a directory holding .yaml, .yml or .json manifests', found: 'none' });
    files.push(...inDir);
  }
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      problems.push({ file: show(file), path: '', expected: 'a readable manifest file', found: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
      continue;
    }
    parseAllDocuments(text).forEach((doc, i) => {
      const at = `document ${i + 1}`;
      if (doc.errors.length > 0) {
        const e = doc.errors[0]!;
        // yaml's message names the fault and its line and column ("... at line 3, column 1:").
        problems.push({ file: show(file), path: at, expected: 'valid YAML', found: (e.message.split('\n')[0] ?? e.code).replace(/:$/, '') });
        return;
      }
      const value = doc.toJS() as unknown;
      if (value === null || value === undefined) return; // an empty document (a trailing ---)
      const o = value as FoundObject['obj'];
      if (typeof value !== 'object' || Array.isArray(value) || typeof o.kind !== 'string' || typeof o.apiVersion !== 'string' || typeof o.metadata?.name !== 'string') {
        problems.push({ file: show(file), path: at, expected: 'a Kubernetes object (apiVersion, kind, metadata.name)', found: describe(value) });
        return;
      }
      objects.push({ obj: o, where: `${show(file)}#${i + 1}` });
    });
  }
  return { objects, problems };
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (typeof v !== 'object' || v === null) return `${typeof v} ${JSON.stringify(v)}`;
  const o = v as Record<string, unknown>;
  const missing = ['apiVersion', 'kind'].filter((k) => typeof o[k] !== 'string');
  if (typeof (o['metadata'] as { name?: unknown } | undefined)?.name !== 'string') missing.push('metadata.name');
  return `an object without ${missing.join(', ')}`;
}
