import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';

it('names the package and version package.json declares (the tracer scope users see)', () => {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  expect({ name: PACKAGE_NAME, version: PACKAGE_VERSION }).toEqual({
    name: manifest.name,
    version: manifest.version,
  });
});
