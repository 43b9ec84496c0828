import { ensureDebianTool, type DebianTool } from './debian-tools.js';

/**
 * Installs the Debian Prometheus tools and Chromium (for the web view's browser tests) once, before any test runs and outside every test's timeout
 * (apt-get update and install take tens of seconds on a fresh machine). Where that is impossible the
 * tests that need a tool fail with ensureDebianTool's message naming what to install.
 */
export default function setup(): void {
  const tools: DebianTool[] = ['promtool', 'amtool', 'prometheus', 'alertmanager', 'chromium'];
  for (const tool of tools) {
    try {
      ensureDebianTool(tool);
    } catch (error) {
      process.stderr.write(`[mcpscope tests] ${error instanceof Error ? error.message : String(error)}\n`);
      return;
    }
  }
}
