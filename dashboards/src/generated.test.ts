import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderDashboardFiles } from './render.js';

const dashboardsRoot = fileURLToPath(new URL('..', import.meta.url));

const filesUnder = async (dir: string): Promise<string[]> => {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dashboardsRoot, join(e.parentPath, e.name)));
};

describe('checked-in dashboards/generated', () => {
  it('matches what `npm run generate` renders (run it after changing dashboards/src)', async () => {
    const rendered = renderDashboardFiles();
    expect((await filesUnder(join(dashboardsRoot, 'generated'))).sort()).toEqual(
      rendered.map((f) => f.path).sort(),
    );
    for (const file of rendered) {
      expect(await readFile(join(dashboardsRoot, file.path), 'utf8'), file.path).toBe(file.content);
    }
  });
});
