import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderAlertFiles } from './render.js';

const alertsRoot = fileURLToPath(new URL('..', import.meta.url));

describe('checked-in alerts/generated', () => {
  it('matches what `npm run generate` renders (run it after changing alerts/src)', async () => {
    const rendered = renderAlertFiles();
    const entries = await readdir(join(alertsRoot, 'generated'), { withFileTypes: true, recursive: true });
    const onDisk = entries
      .filter((e) => e.isFile())
      .map((e) => relative(alertsRoot, join(e.parentPath, e.name)));
    expect(onDisk.sort()).toEqual(rendered.map((f) => f.path).sort());
    for (const file of rendered) {
      expect(await readFile(join(alertsRoot, file.path), 'utf8'), file.path).toBe(file.content);
    }
  });
});
