import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeploymentConfigError, deploymentFromEnv } from '../../dashboards/src/index.js';
import { alertsConfigFor } from './config.js';
import { renderAlertFiles } from './render.js';

const alertsRoot = fileURLToPath(new URL('..', import.meta.url));

const deployment = (() => {
  try {
    return deploymentFromEnv(process.env);
  } catch (error) {
    if (!(error instanceof DeploymentConfigError)) throw error;
    process.stderr.write(`alerts: ${error.message}\n`);
    process.exit(2);
  }
})();
const files = renderAlertFiles(alertsConfigFor(deployment));
await rm(join(alertsRoot, 'generated'), { recursive: true, force: true });
for (const file of files) {
  const target = join(alertsRoot, file.path);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, file.content);
}
process.stdout.write(`alerts: wrote ${files.length} files under alerts/generated\n`);
