export { otlpHttpRoutes, type OtlpHttpOptions } from './otlp-http.js';
export { startOtlpGrpcReceiver, type OtlpGrpcOptions, type OtlpGrpcReceiver } from './otlp-grpc.js';
export type { OtlpReceiverOptions } from './types.js';
