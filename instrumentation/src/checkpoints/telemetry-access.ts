import { trace, type Tracer } from '@opentelemetry/api';
import { createArgumentsFingerprinter } from '../arguments-fingerprint.js';
import { activeTelemetry } from '../patch-protocol.js';
import { createRedactor, type Redactor } from '../redaction/index.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../version.js';

/**
 * What checkpoint telemetry borrows from the active instrumentation: its tracer, its redactor and its
 * arguments fingerprint (same key, so a checkpoint's fingerprint compares with its calls'). Without an
 * active instrumentation, the global tracer and a fingerprint keyed as the instrumentation would key it.
 */
let fallbackFingerprint: ((args: unknown) => string) | undefined;
let fallbackRedactor: Redactor | undefined;

export const checkpointTracer = (): Tracer =>
  activeTelemetry()?.tracer() ?? trace.getTracer(PACKAGE_NAME, PACKAGE_VERSION);

export const fingerprintArguments = (args: unknown): string => {
  const telemetry = activeTelemetry();
  if (telemetry) return telemetry.argumentsFingerprint(args);
  fallbackFingerprint ??= createArgumentsFingerprinter(process.env.MCPSCOPE_FINGERPRINT_KEY);
  return fallbackFingerprint(args);
};

export const redactText = (text: string): string =>
  (activeTelemetry()?.redactor ?? (fallbackRedactor ??= createRedactor({ rules: [] }))).redactString(text)
    .value;
