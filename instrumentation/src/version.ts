// Kept equal to package.json by a test; a build-time import of package.json would leave `src` as the root.
export const PACKAGE_NAME = '@mcpscope/instrumentation';
export const PACKAGE_VERSION = '0.1.0';
