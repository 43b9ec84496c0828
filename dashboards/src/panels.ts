import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

export interface PanelQuery {
  readonly expr: string;
  /** Grafana legend template, e.g. `{{service_name}}`. */
  readonly legend?: string;
}

export interface ThresholdStep {
  readonly value: number;
  readonly color: 'orange' | 'red';
}

export interface PanelSpec {
  /** Stable id: links and alert annotations point at it, so never renumber. */
  readonly id: number;
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly queries: readonly PanelQuery[];
  /** Grid width out of 24. */
  readonly width: number;
  readonly height?: number;
  readonly thresholds?: readonly ThresholdStep[];
  readonly links?: readonly PanelLink[];
}

export interface PanelLink {
  readonly title: string;
  readonly url: string;
}

/** The data source every panel uses: the dashboard's data-source variable. */
export const datasourceRef = (variable: string): { type: string; uid: string } => ({
  type: 'prometheus',
  uid: `\${${variable}}`,
});

const refIds = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

const targets = (spec: PanelSpec, datasource: { type: string; uid: string }, instant: boolean) =>
  spec.queries.map((query, index) => {
    const target = new prometheus.DataqueryBuilder()
      .refId(refIds[index] ?? `Q${index}`)
      .datasource(datasource)
      .expr(query.expr)
      .legendFormat(query.legend ?? '__auto');
    if (instant) target.instant().format(prometheus.PromQueryFormat.Table);
    else target.range();
    return target;
  });

const thresholdsOf = (steps: readonly ThresholdStep[] = []) =>
  new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps([
      { value: null, color: 'green' },
      ...steps.map((step) => ({ value: step.value, color: step.color })),
    ]);

const linksOf = (links: readonly PanelLink[] = []) =>
  links.map((link) => new dashboard.DashboardLinkBuilder(link.title).url(link.url).targetBlank(true));

export const timeseriesPanel = (spec: PanelSpec, datasource: { type: string; uid: string }) =>
  new timeseries.PanelBuilder()
    .id(spec.id)
    .title(spec.title)
    .description(spec.description)
    .unit(spec.unit)
    .datasource(datasource)
    .targets(targets(spec, datasource, false))
    .thresholds(thresholdsOf(spec.thresholds))
    .thresholdsStyle(
      new common.GraphThresholdsStyleConfigBuilder().mode(
        spec.thresholds ? common.GraphThresholdsStyleMode.Dashed : common.GraphThresholdsStyleMode.Off,
      ),
    )
    .dataLinks(linksOf(spec.links))
    .min(0)
    .fillOpacity(10)
    .lineWidth(1)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .calcs(['lastNotNull', 'max']),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder()
        .mode(common.TooltipDisplayMode.Multi)
        .sort(common.SortOrder.Descending),
    )
    .span(spec.width)
    .height(spec.height ?? 8);

export const statPanel = (spec: PanelSpec, datasource: { type: string; uid: string }) =>
  new stat.PanelBuilder()
    .id(spec.id)
    .title(spec.title)
    .description(spec.description)
    .unit(spec.unit)
    .datasource(datasource)
    .targets(targets(spec, datasource, false))
    .thresholds(thresholdsOf(spec.thresholds))
    .colorMode(common.BigValueColorMode.Value)
    .graphMode(common.BigValueGraphMode.Area)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .dataLinks(linksOf(spec.links))
    .noValue('0')
    .span(spec.width)
    .height(spec.height ?? 4);

export const tablePanel = (spec: PanelSpec, datasource: { type: string; uid: string }) =>
  new table.PanelBuilder()
    .id(spec.id)
    .title(spec.title)
    .description(spec.description)
    .unit(spec.unit)
    .datasource(datasource)
    .targets(targets(spec, datasource, true))
    .thresholds(thresholdsOf(spec.thresholds))
    .dataLinks(linksOf(spec.links))
    // Instant table queries come back with a Time column nobody reads.
    .withTransformation({ id: 'organize', options: { excludeByName: { Time: true } } })
    .span(spec.width)
    .height(spec.height ?? 8);

export const row = (id: number, title: string) => new dashboard.RowBuilder(title).id(id);
