export { hostAllowList, hostName, isAllowedHost, type HostAllowListOptions } from './host-allow-list.js';
export { isJsonMediaType, jsonOnly, type JsonOnlyOptions } from './json-only.js';
