import type { ProtocolLike } from './mcp-telemetry.js';

/** Negotiated protocol versions, learned from `initialize` results on either side. */
const protocolVersions = new WeakMap<object, string>();

/** Notes the version an `initialize` result settled on for this protocol object. */
export const learnProtocolVersion = (protocol: ProtocolLike, version: string): void => {
  protocolVersions.set(protocol, version);
};

/** The protocol version in use: learned from `initialize`, else what the SDK says it negotiated. */
export const negotiatedVersion = (protocol: ProtocolLike): string | undefined => {
  const learned = protocolVersions.get(protocol);
  if (learned !== undefined) return learned;
  const negotiated = protocol._negotiatedProtocolVersion;
  return typeof negotiated === 'string' ? negotiated : undefined;
};
