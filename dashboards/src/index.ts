export { agentTasksDashboard } from './agent-tasks.js';
export {
  allDashboards,
  expandGrafanaVariables,
  listPanelQueries,
  panelsOf,
  variablesOf,
  type PanelQueryRef,
} from './all-dashboards.js';
export { authDashboard } from './auth.js';
export { checkpointsDashboard } from './checkpoints.js';
export { collectorHealthDashboard } from './collector-health.js';
export { dashboardsConfigFor, defaultDashboardsConfig, type DashboardsConfig } from './config.js';
export {
  collectorSelectorFor,
  defaultDeploymentConfig,
  DEPLOYMENT_ENV,
  DeploymentConfigError,
  deploymentFromEnv,
  type DeploymentConfig,
} from './deployment.js';
export { PINNED_GRAFANA, type DashboardJson } from './dashboard-frame.js';
export { lintDashboards, type LintProblem } from './lint/dashboard-lint.js';
export { mcpOverviewDashboard } from './mcp-overview.js';
export {
  dashboardProvisioning,
  datasourceProvisioning,
  defaultGrafanaProvisioningConfig,
  provisioningConfigFor,
  type GrafanaProvisioningConfig,
} from './provisioning.js';
export { renderDashboardFiles, type GeneratedFile } from './render.js';
export { toolDrilldownDashboard } from './tool-drilldown.js';
