export type { RedactionResult, RedactionRule, Redactor, RedactorOptions } from './types.js';
export { createRedactor } from './walker.js';
export { redactionMarker } from './markers.js';
export { BUILT_IN_RULES } from './rules.js';
