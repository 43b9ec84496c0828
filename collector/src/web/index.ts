export { CONTENT_SECURITY_POLICY, GRAFANA_DASHBOARDS, webRoutes } from './web-routes.js';
export type { WebRoutesOptions } from './web-routes.js';
