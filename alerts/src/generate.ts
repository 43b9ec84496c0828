import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderAlertFiles } from './render.js';

const alertsRoot = fileURLToPath(new URL('..', import.meta.url));

const files = renderAlertFiles();
await rm(join(alertsRoot, 'generated'), { recursive: true, force: true });
for (const file of files) {
  const target = join(alertsRoot, file.path);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, file.content);
}
process.stdout.write(`alerts: wrote ${files.length} files under alerts/generated\n`);
