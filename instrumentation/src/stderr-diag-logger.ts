import { DiagLogLevel, type DiagLogger } from '@opentelemetry/api';

const LEVELS: Record<string, DiagLogLevel> = {
  NONE: DiagLogLevel.NONE,
  ERROR: DiagLogLevel.ERROR,
  WARN: DiagLogLevel.WARN,
  INFO: DiagLogLevel.INFO,
  DEBUG: DiagLogLevel.DEBUG,
  VERBOSE: DiagLogLevel.VERBOSE,
  ALL: DiagLogLevel.ALL,
};

export const diagLogLevelFromEnv = (value: string | undefined): DiagLogLevel =>
  LEVELS[value?.trim().toUpperCase() ?? ''] ?? DiagLogLevel.WARN;

/** Longest diagnostic line; a stack trace is not worth a screenful of stderr. */
const MAX_LINE_LENGTH = 500;

const describe = (arg: unknown): string => {
  if (arg instanceof Error) return `${arg.name}: ${arg.message}`;
  if (typeof arg === 'string') return arg;
  try {
    return JSON.stringify(arg) ?? String(arg);
  } catch {
    return String(arg);
  }
};

/**
 * OpenTelemetry diagnostics on stderr, never stdout, and rate-limited: the same message at most once
 * per interval, with a count of what was suppressed, so a collector that is down for an hour costs
 * one line a minute rather than a flood.
 */
export const createStderrDiagLogger = ({
  intervalMs = 60_000,
  write = (line: string) => void process.stderr.write(line),
  now = Date.now,
}: { intervalMs?: number; write?: (line: string) => void; now?: () => number } = {}): DiagLogger => {
  const lastSeen = new Map<string, { at: number; suppressed: number }>();
  const log =
    (level: string) =>
    (message: string, ...args: unknown[]) => {
      const detail = args.length > 0 ? ` ${args.map(describe).join(' ')}` : '';
      const text = `${message}${detail}`.replace(/\s*\n\s*/g, ' ').slice(0, MAX_LINE_LENGTH);
      // Errors differ in ports, timings and timestamps; the same failure must still count as one.
      const key = `${level}:${text.replace(/\d+/g, '#').slice(0, 160)}`;
      const time = now();
      const entry = lastSeen.get(key);
      if (entry && time - entry.at < intervalMs) {
        entry.suppressed += 1;
        return;
      }
      if (lastSeen.size > 1000) lastSeen.clear();
      const suppressed = entry?.suppressed ?? 0;
      lastSeen.set(key, { at: time, suppressed: 0 });
      const more = suppressed > 0 ? ` (${suppressed} similar suppressed)` : '';
      write(`[mcpscope] ${level} ${text}${more}\n`);
    };
  return {
    error: log('error'),
    warn: log('warn'),
    info: log('info'),
    debug: log('debug'),
    verbose: log('verbose'),
  };
};
