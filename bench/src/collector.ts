export interface CollectorBenchOptions {
  quick?: boolean;
  log?: (line: string) => void;
}
export const runCollectorBench = async (_options: CollectorBenchOptions = {}) => ({
  markdown: '## Collector\n\nNot measured yet.\n',
  targetsMet: false,
});
