import { fileURLToPath } from 'node:url';

/** The repository root, whatever the working directory. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** Scratch space for benchmark files (databases, SDK copies, profiles); not committed. */
export const benchCache = fileURLToPath(new URL('../../.cache/', import.meta.url));
export const benchSrc = fileURLToPath(new URL('../', import.meta.url));
