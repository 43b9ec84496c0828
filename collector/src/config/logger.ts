export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Fields are structured metadata only: counts, ports, names. Never a payload or a header value. */
export type LogFields = Record<string, string | number | boolean | null>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  level?: LogLevel;
  write?: (line: string) => void;
  now?: () => Date;
}

/** JSON lines on stderr: stdout stays free for what a command prints. */
export const createLogger = ({
  level = 'info',
  write = (line) => process.stderr.write(line),
  now = () => new Date(),
}: LoggerOptions = {}): Logger => {
  const log = (entryLevel: LogLevel) =>
    function log(message: string, fields: LogFields = {}) {
      if (LEVELS[entryLevel] < LEVELS[level]) return;
      write(`${JSON.stringify({ time: now().toISOString(), level: entryLevel, msg: message, ...fields })}\n`);
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
};

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** What may be logged about an error: its class name, never its message (it can quote input). */
/** DuckDB names its error class at the start of the message ("Conversion Error: …"): that much is safe to log. */
const DUCKDB_ERROR_CLASS = /^([A-Z][A-Za-z]*(?: [A-Z][A-Za-z]*)* Error):/;

/**
 * What kind of error this is, for a log line: the class name, or DuckDB's error class. Never the
 * message, which can quote the values that caused it.
 */
export const errorKind = (error: unknown): string => {
  if (!(error instanceof Error)) return typeof error;
  const duckdbClass = DUCKDB_ERROR_CLASS.exec(error.message)?.[1];
  return duckdbClass === undefined ? error.name : `${error.name} (${duckdbClass})`;
};
