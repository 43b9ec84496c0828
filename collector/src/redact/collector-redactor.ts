import { createRedactor } from '@mcpscope/instrumentation/redaction';
import type { RedactionRuleSetting } from '../config/settings.js';

/** What the collector's redactor is built from: plain data, so a worker thread can build the same one. */
export interface CollectorRedaction {
  rules: readonly RedactionRuleSetting[];
  /** Longest string the rules see whole; a request bounds its values anyway. */
  maxStringLength: number;
}

/** The collector's redactor: the engine's default rules plus the configured ones. */
export const collectorRedactor = ({ rules, maxStringLength }: CollectorRedaction) =>
  createRedactor({
    maxStringLength,
    rules: rules.map((rule) => ({
      name: rule.name,
      ...(rule.key === undefined ? {} : { key: new RegExp(rule.key, 'i') }),
      ...(rule.value === undefined ? {} : { value: new RegExp(rule.value, 'g') }),
    })),
  });
