import { OVERFLOW_LABEL_VALUE } from './names.js';

/**
 * Bounds the distinct tool names per service that become label values; past the cap every new name
 * is folded into {@link OVERFLOW_LABEL_VALUE} so a misbehaving client cannot explode the series count.
 */
export class ToolLabelCap {
  private readonly seen = new Map<string, Set<string>>();

  constructor(private readonly maxToolsPerService: number) {}

  label(service: string, tool: string): string {
    let tools = this.seen.get(service);
    if (tools === undefined) {
      tools = new Set();
      this.seen.set(service, tools);
    }
    if (tools.has(tool)) return tool;
    if (tools.size >= this.maxToolsPerService) return OVERFLOW_LABEL_VALUE;
    tools.add(tool);
    return tool;
  }
}
