// tsc compiles only TypeScript: the web view's browser files are copied beside its compiled module.
import { cpSync } from 'node:fs';

const from = new URL('../src/web/static/', import.meta.url);
const to = new URL('../dist/web/static/', import.meta.url);
cpSync(from, to, { recursive: true });
