import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dashboardsConfigFor } from './config.js';
import { DeploymentConfigError, deploymentFromEnv } from './deployment.js';
import { provisioningConfigFor } from './provisioning.js';
import { renderDashboardFiles } from './render.js';

const dashboardsRoot = fileURLToPath(new URL('..', import.meta.url));

const deployment = (() => {
  try {
    return deploymentFromEnv(process.env);
  } catch (error) {
    if (!(error instanceof DeploymentConfigError)) throw error;
    process.stderr.write(`dashboards: ${error.message}\n`);
    process.exit(2);
  }
})();
const files = renderDashboardFiles(dashboardsConfigFor(deployment), provisioningConfigFor(deployment));
await rm(join(dashboardsRoot, 'generated'), { recursive: true, force: true });
for (const file of files) {
  const target = join(dashboardsRoot, file.path);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, file.content);
}
process.stdout.write(`dashboards: wrote ${files.length} files under dashboards/generated\n`);
