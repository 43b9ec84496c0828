import { LABEL, OVERFLOW_LABEL_VALUE, type LabelName } from './names.js';

export interface LabelCapLimits {
  /** Distinct `service_name` values. */
  maxServices: number;
  /** Distinct `gen_ai_tool_name` values per service. */
  maxToolsPerService: number;
  /** Distinct values of every other label taken from span content (error types, methods, verdicts). */
  maxValues: number;
}

/**
 * Bounds the distinct values each span-derived label takes, so no producer can multiply the series
 * count: past its cap, a label's new values are folded into {@link OVERFLOW_LABEL_VALUE} and the fold
 * is reported (per label). Values seen before the cap keep their own series.
 */
export class LabelValueCaps {
  private readonly seen = new Map<string, Set<string>>();

  constructor(
    private readonly limits: LabelCapLimits,
    private readonly onFolded: (label: LabelName) => void = () => {},
  ) {}

  /** The value to expose for `label`; `scope` caps per owner (tools per service). */
  value(label: LabelName, value: string, scope = ''): string {
    // The empty value (no tool, no error) is one series per label and always kept.
    if (value === '') return value;
    const key = `${label}\u0000${scope}`;
    let values = this.seen.get(key);
    if (values === undefined) {
      values = new Set();
      this.seen.set(key, values);
    }
    if (values.has(value)) return value;
    if (values.size >= this.capOf(label)) {
      this.onFolded(label);
      return OVERFLOW_LABEL_VALUE;
    }
    values.add(value);
    return value;
  }

  private capOf(label: LabelName): number {
    if (label === LABEL.serviceName) return this.limits.maxServices;
    if (label === LABEL.tool) return this.limits.maxToolsPerService;
    return this.limits.maxValues;
  }
}
