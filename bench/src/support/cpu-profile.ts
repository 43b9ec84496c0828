/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) into the figures RESULTS.md quotes: how much of
 * the main thread was busy, and which functions and files held it (self time).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from './paths.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  idleMs: number;
  /** Self time by function, busiest first. */
  functions: { name: string; location: string; selfMs: number; share: number }[];
  /** Self time by area (collector folder, dependency, native/GC), busiest first. */
  areas: { area: string; selfMs: number; share: number }[];
}

const areaOf = (url: string, name: string): string => {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const path = url.replace(/^file:\/\//, '');
  const collector = /collector\/(?:dist|src)\/([^/]+)\//.exec(path);
  if (collector) return `collector/${collector[1]}`;
  const redaction = /instrumentation\/(?:dist|src)\/redaction\//.exec(path);
  if (redaction) return 'mcpscope redaction engine';
  const instrumentation = /instrumentation\/(?:dist|src)\/([^/]+?)\.[cm]?js/.exec(path);
  if (instrumentation) return `mcpscope instrumentation/${instrumentation[1]}`;
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (dependency) return dependency[1]!;
  if (path.startsWith('node:')) return 'node core';
  return relative(repoRoot, path) || path;
};

/**
 * The main thread's profile in `dir` (`CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile`, thread 0);
 * loader hooks run on another thread and write their own file.
 */
export const latestProfile = (dir: string): string | undefined =>
  readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile') && name.split('.')[4] === '0')
    .sort()
    .map((name) => join(dir, name))
    .at(-1);

export const summariseProfile = (file: string, top = 12): ProfileSummary => {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  /**
   * Native code a JavaScript function called (an addon's binding: DuckDB's appender, say) has neither
   * name nor file: it is charged to its nearest caller that has a file, so it is not one opaque row.
   */
  const nativeCaller = (id: number): ProfileNode['callFrame'] | undefined => {
    for (let at = parentOf.get(id); at !== undefined; at = parentOf.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (frame?.url) return frame;
    }
    return undefined;
  };
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, index) =>
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)),
  );
  let totalUs = 0;
  let idleUs = 0;
  const functions = new Map<string, { name: string; location: string; us: number }>();
  const areas = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const own = byId.get(id)?.callFrame;
    if (!own) continue;
    totalUs += us;
    const caller = own.url === '' && own.functionName === '' ? nativeCaller(id) : undefined;
    const frame = caller ?? own;
    const name = caller
      ? `(native, from ${caller.functionName || 'anonymous'})`
      : frame.functionName || '(anonymous)';
    if (name === '(idle)') {
      idleUs += us;
      continue;
    }
    const location = frame.url
      ? `${relative(repoRoot, frame.url.replace(/^file:\/\//, ''))}:${frame.lineNumber + 1}`
      : '';
    const key = `${name}@${location}`;
    const entry = functions.get(key) ?? { name, location, us: 0 };
    entry.us += us;
    functions.set(key, entry);
    const area = caller ? `${areaOf(caller.url, name)} (native)` : areaOf(frame.url, name);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const busyUs = Math.max(1, totalUs - idleUs);
  return {
    file,
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    functions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((entry) => ({
        name: entry.name,
        location: entry.location,
        selfMs: entry.us / 1000,
        share: entry.us / busyUs,
      })),
    areas: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, us]) => ({ area, selfMs: us / 1000, share: us / busyUs })),
  };
};
