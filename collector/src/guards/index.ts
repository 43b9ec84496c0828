export { hostAllowList, hostName, isAllowedHost, type HostAllowListOptions } from './host-allow-list.js';
export { isJsonMediaType, jsonOnly, type JsonOnlyOptions } from './json-only.js';
export { clampToArrival, type ArrivalClamp } from './span-times.js';
export { guardConnections, type ConnectionGuardOptions } from './connection-guard.js';
