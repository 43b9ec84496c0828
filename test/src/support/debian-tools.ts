import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export type DebianTool = 'promtool' | 'amtool' | 'prometheus' | 'alertmanager' | 'chromium';

/** Executable names per tool, Debian's first: its Alertmanager is `prometheus-alertmanager`. */
const EXECUTABLES: Record<DebianTool, readonly string[]> = {
  promtool: ['promtool'],
  amtool: ['amtool'],
  prometheus: ['prometheus'],
  alertmanager: ['prometheus-alertmanager', 'alertmanager'],
  chromium: ['chromium', 'chromium-browser'],
};

/** The Debian package that provides each tool. */
const DEBIAN_PACKAGE: Record<DebianTool, string> = {
  promtool: 'prometheus',
  amtool: 'prometheus-alertmanager',
  prometheus: 'prometheus',
  alertmanager: 'prometheus-alertmanager',
  chromium: 'chromium',
};

/** Debian packages that provide all the tools. */
export const DEBIAN_PACKAGES = [...new Set(Object.values(DEBIAN_PACKAGE))];

const findOnPath = (names: readonly string[], path = process.env.PATH ?? ''): string | undefined => {
  for (const name of names) {
    for (const dir of path.split(delimiter).filter(Boolean)) {
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not in this directory
      }
    }
  }
  return undefined;
};

const installWithApt = (debianPackage: string): void => {
  const asRoot = process.getuid?.() === 0;
  const command = `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${debianPackage}`;
  // One install at a time even when several test files ask at once.
  execFileSync('flock', ['/tmp/mcpscope-apt.lock', ...(asRoot ? [] : ['sudo', '-n']), 'sh', '-c', command], {
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 300_000,
  });
};

/**
 * Absolute path of a tool from Debian's packages (Prometheus' tools, Chromium). When it is missing and the tests run
 * as root or with `CI` set, installs the packages with apt-get (so `npm test` works on a fresh
 * machine); otherwise fails with a message that says what to install.
 */
export const ensureDebianTool = (tool: DebianTool, env: NodeJS.ProcessEnv = process.env): string => {
  const found = findOnPath(EXECUTABLES[tool], env.PATH);
  if (found) return found;
  const debianPackage = DEBIAN_PACKAGE[tool];
  if (!env.CI && process.getuid?.() !== 0) {
    throw new Error(
      `${EXECUTABLES[tool].join(' or ')} not found. Install it from Debian's packages: ` +
        `sudo apt-get update && sudo apt-get install -y ${debianPackage} (set CI=1 to let the tests do it).`,
    );
  }
  try {
    installWithApt(debianPackage);
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? String(error);
    throw new Error(`apt-get install ${debianPackage} failed: ${stderr.slice(-1000)}`);
  }
  const installed = findOnPath(EXECUTABLES[tool], env.PATH);
  if (!installed) throw new Error(`${tool} still not found after installing ${debianPackage}`);
  return installed;
};
