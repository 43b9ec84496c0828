import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderDashboardFiles } from './render.js';

const dashboardsRoot = fileURLToPath(new URL('..', import.meta.url));

const files = renderDashboardFiles();
await rm(join(dashboardsRoot, 'generated'), { recursive: true, force: true });
for (const file of files) {
  const target = join(dashboardsRoot, file.path);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, file.content);
}
process.stdout.write(`dashboards: wrote ${files.length} files under dashboards/generated\n`);
