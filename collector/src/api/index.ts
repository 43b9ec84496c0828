export { ApiError, renderError } from './api-error.js';
export { apiRoutes, NEXT_CURSOR_HEADER } from './api-routes.js';
export type { ApiRoutesOptions } from './api-routes.js';
export { checkpointRoutes } from './checkpoint-routes.js';
