import { describe, expect, it } from 'vitest';
import { explainExportFailure } from './export-failure.js';

/** The errors @grpc/grpc-js gives the OTLP/gRPC exporter, as observed against each kind of endpoint. */
const unavailable = (lastError: string) => ({
  code: 14,
  details: `No connection established. Last error: ${lastError}. Resolution note: `,
  message: `14 UNAVAILABLE: No connection established. Last error: ${lastError}. Resolution note: `,
});

describe('explainExportFailure', () => {
  it('says nothing listens, and how to start the collector, when the connection is refused', () => {
    expect(
      explainExportFailure(
        'http://127.0.0.1:4317',
        unavailable('Error: connect ECONNREFUSED 127.0.0.1:4317 (2026-12-07T18:06:15.842Z)'),
      ),
    ).toBe(
      'nothing listens there; is the collector running (`npx mcpscope collector`), and does OTEL_EXPORTER_OTLP_ENDPOINT name its gRPC port?',
    );
  });

  it("points a gRPC exporter aimed at the collector's OTLP/HTTP port to the gRPC port", () => {
    const explained = explainExportFailure(
      'http://localhost:4318',
      unavailable('Protocol error (2026-12-07T18:06:15.842Z)'),
    );
    expect(explained).toContain('does not speak OTLP/gRPC');
    expect(explained).toContain("4318 is the collector's OTLP/HTTP port");
    expect(explained).toContain('gRPC port (4317 by default)');
    expect(explained).toContain('OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf');
  });

  it('asks whether another port speaking something else is the gRPC port', () => {
    expect(explainExportFailure('http://127.0.0.1:9090', unavailable('Protocol error'))).toBe(
      "something answered that does not speak OTLP/gRPC; is this the collector's gRPC port? For an OTLP/HTTP endpoint set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
    );
  });

  it('explains https:// against a collector without TLS', () => {
    expect(
      explainExportFailure(
        'https://127.0.0.1:4317',
        unavailable(
          'Error: 807CE56D257F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:\n',
        ),
      ),
    ).toBe('the TLS handshake failed; a collector without TLS takes an http:// endpoint');
  });

  it('names timeouts, refused credentials and overload by what to check', () => {
    expect(explainExportFailure('http://c:4317', { code: 4, details: 'Deadline exceeded' })).toContain(
      'OTEL_EXPORTER_OTLP_TIMEOUT',
    );
    expect(explainExportFailure('http://c:4317', { code: 16, details: 'missing token' })).toBe(
      'the collector refused the credentials (UNAUTHENTICATED); check OTEL_EXPORTER_OTLP_HEADERS',
    );
    expect(explainExportFailure('http://c:4317', { code: 8, details: 'queue full' })).toBe(
      'the collector is overloaded (RESOURCE_EXHAUSTED)',
    );
  });

  it('keeps anything else to the status and the first line of its details, never a stack', () => {
    const error = Object.assign(new Error('13 INTERNAL: boom'), { code: 13, details: 'boom\nsecond line' });
    const explained = explainExportFailure('http://c:4317', error);
    expect(explained).toBe('INTERNAL: boom');
    expect(explainExportFailure('http://c:4317', new Error('plain failure'))).toBe('plain failure');
  });
});
