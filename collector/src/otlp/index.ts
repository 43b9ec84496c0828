export { decodeTraceRequestJson, decodeTraceRequestProtobuf, type DecodedTraceRequest } from './decode.js';
export {
  encodeExportTraceResponse,
  encodeRpcStatus,
  encodeTraceRequest,
  GrpcCode,
  type OtlpFormat,
  type PartialSuccess,
} from './encode.js';
export { OtlpDecodeError } from './errors.js';
export { DEFAULT_OTLP_LIMITS, resolveOtlpLimits, type OtlpLimits } from './limits.js';
export { otlpProtoTypes, PROTO_DIR } from './proto.js';
export { TRUNCATION_MARKER } from './values.js';
